import type { ConsultationCall } from '../../call/consultation-call.ts';
import type { CallSnapshot } from '../../call/call-session.ts';
import { useI18n } from '../i18n.tsx';

export function CallControls({ call, snap }: { call: ConsultationCall; snap: CallSnapshot }) {
  const { t } = useI18n();
  const s = call.session;
  const share = async () => {
    if (snap.sending.screen) return s.stopScreenShare();
    try {
      const display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      const track = display.getVideoTracks()[0];
      if (track) await s.startScreenShare(track);
    } catch {
      // the user cancelled the picker
    }
  };
  return (
    <footer className="controls" aria-label="Call controls">
      <button type="button" aria-pressed={!snap.sending.mic} onClick={() => s.setSending('mic', !snap.sending.mic)}>
        {snap.sending.mic ? t('mute') : t('unmute')}
      </button>
      <button type="button" aria-pressed={!snap.sending.camera} onClick={() => s.setSending('camera', !snap.sending.camera)}>
        {snap.sending.camera ? t('cameraOff') : t('cameraOn')}
      </button>
      {'getDisplayMedia' in navigator.mediaDevices ? (
        <button type="button" aria-pressed={snap.sending.screen} onClick={() => void share()}>
          {snap.sending.screen ? t('stopShare') : t('shareScreen')}
        </button>
      ) : null}
      <button type="button" className="danger" onClick={() => void s.leave()}>
        {t('leave')}
      </button>
      {snap.role === 'doctor' ? (
        <button type="button" className="danger" onClick={() => void s.endConsultation()}>
          {t('endForAll')}
        </button>
      ) : null}
    </footer>
  );
}
