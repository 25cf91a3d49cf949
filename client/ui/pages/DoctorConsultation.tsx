import { useEffect, useState } from 'react';
import { api, ApiError, type ConsultationView, type User } from '../../api/api-client.ts';
import { readFragment, rememberedSecrets } from '../../call/invite-links.ts';
import { ConsultationCall } from '../../call/consultation-call.ts';
import { callMemory } from '../../call/call-memory.ts';
import { devicesOf, openLocalMedia } from '../../call/local-media.ts';
import { DeviceCheck } from '../DeviceCheck.tsx';
import { CallView } from '../call/CallView.tsx';
import { LoginForm } from './LoginForm.tsx';
import { DoctorLinkStopped, type DoctorStopReason } from './doctor/DoctorLinkStopped.tsx';
import { useI18n } from '../i18n.tsx';
import { PageShell } from '../PageShell.tsx';
import { errorText } from '../errors.ts';

/** The consultation as the API tells it: still open, or why not. */
type Check = { kind: 'open'; consultation: ConsultationView } | { kind: 'stopped'; reason: DoctorStopReason } | { kind: 'failed'; error: unknown };

async function checkConsultation(id: string): Promise<Check> {
  try {
    const c = await api.myConsultation(id);
    if (c.status === 'ended') return { kind: 'stopped', reason: 'ended' };
    if (!c.endable) return { kind: 'stopped', reason: 'expired' };
    return { kind: 'open', consultation: c };
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'not-found' || err.code === 'forbidden')) return { kind: 'stopped', reason: err.code };
    return { kind: 'failed', error: err };
  }
}

/**
 * The doctor's link: sign in if needed; the consultation is checked (an
 * ended, expired, unknown or another doctor's one gets a clear page, not a
 * call screen); then the device check and the call with its waiting room.
 * A tab that was in the call (reload) goes straight back in, once checked.
 */
export function DoctorConsultation({ consultationId }: { consultationId: string }) {
  const { t } = useI18n();
  const [secret] = useState(() => {
    const s = readFragment(window.location.hash).secret ?? rememberedSecrets.load(consultationId);
    if (s) rememberedSecrets.save(consultationId, s);
    return s;
  });
  const [memory] = useState(() => callMemory.load(consultationId));
  const [user, setUser] = useState<User | null>();
  const [check, setCheck] = useState<Check>();
  const [call, setCall] = useState<{ call: ConsultationCall; stream: MediaStream }>();
  const [returning, setReturning] = useState(memory.inCall === true);
  useEffect(() => {
    api.me().then(setUser, () => setUser(null));
  }, []);
  const isDoctor = user?.role === 'doctor';
  useEffect(() => {
    if (!isDoctor) return;
    let live = true;
    void checkConsultation(consultationId).then((c) => {
      if (!live) return;
      // The session ended meanwhile: sign in again.
      if (c.kind === 'failed' && c.error instanceof ApiError && c.error.code === 'unauthenticated') setUser(null);
      else setCheck(c);
    });
    return () => {
      live = false;
    };
  }, [isDoctor, consultationId]);

  const start = (stream: MediaStream) => {
    if (!secret) return;
    callMemory.update(consultationId, { devices: devicesOf(stream) });
    setCall({ call: new ConsultationCall(consultationId, secret, 'doctor'), stream });
  };

  // Back into the call after a reload, with the same devices (once the consultation is known to be open).
  const open = check?.kind === 'open';
  useEffect(() => {
    if (!returning || !open || !user || user.role !== 'doctor' || call || !secret) return;
    let live = true;
    openLocalMedia(memory.devices).then(
      (stream) => (live ? start(stream) : stream.getTracks().forEach((tr) => tr.stop())),
      () => live && setReturning(false),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [returning, open, user, call, secret]);

  if (call && user) {
    return <CallView call={call.call} stream={call.stream} name={user.name} />;
  }
  return (
    <PageShell>
      {!secret ? (
        <p role="alert" className="banner danger" data-testid="link-incomplete">
          {t('linkIncomplete')}
        </p>
      ) : user === undefined ? null : user === null || !isDoctor ? (
        <LoginForm onSignedIn={setUser} intro={t('signInToOpen')} />
      ) : check === undefined ? null : check.kind === 'stopped' ? (
        <DoctorLinkStopped reason={check.reason} />
      ) : check.kind === 'failed' ? (
        <p role="alert" className="banner danger" data-testid="check-failed">
          {t('checkFailed', { reason: errorText(t, check.error) })}
        </p>
      ) : returning ? (
        <section className="card" aria-live="polite" data-testid="returning">
          <p>{t('returningToCall')}</p>
        </section>
      ) : (
        <DeviceCheck onReady={start} />
      )}
    </PageShell>
  );
}
