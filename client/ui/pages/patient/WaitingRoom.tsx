import { useEffect, useRef } from 'react';
import { useI18n } from '../../i18n.tsx';

/**
 * The patient's waiting room: who will let them in, their own picture (so
 * they can fix the framing while they wait) and a calm message.
 */
export function WaitingRoom({ doctorName, stream }: { doctorName: string | undefined; stream: MediaStream | undefined }) {
  const { t } = useI18n();
  const videoRef = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (videoRef.current) videoRef.current.srcObject = stream ?? null;
  }, [stream]);
  return (
    <section className="card waiting-room" aria-live="polite" data-testid="waiting-room">
      <h2>{t('waitingRoom')}</h2>
      <p data-testid="waiting-doctor">{doctorName ? t('waitingForNamedDoctor', { doctor: doctorName }) : t('waitingForDoctor')}</p>
      {stream?.getVideoTracks().length ? (
        <video ref={videoRef} className="preview mirrored" autoPlay playsInline muted aria-label={t('yourPreview')} data-testid="waiting-preview" />
      ) : null}
      <p className="muted">{t('waitingCalm')}</p>
    </section>
  );
}
