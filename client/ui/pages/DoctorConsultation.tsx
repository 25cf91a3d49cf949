import { useEffect, useState } from 'react';
import { api, ApiError, type ConsultationView, type User } from '../../api/api-client.ts';
import { readFragment, rememberedSecrets } from '../../call/invite-links.ts';
import { ConsultationCall } from '../../call/consultation-call.ts';
import { DeviceCheck } from '../DeviceCheck.tsx';
import { CallView } from '../call/CallView.tsx';
import { LoginForm } from './LoginForm.tsx';
import { DoctorLinkStopped, type DoctorStopReason } from './doctor/DoctorLinkStopped.tsx';
import { LanguageSwitch, useI18n } from '../i18n.tsx';
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
 */
export function DoctorConsultation({ consultationId }: { consultationId: string }) {
  const { t } = useI18n();
  const [secret] = useState(() => {
    const s = readFragment(window.location.hash).secret ?? rememberedSecrets.load(consultationId);
    if (s) rememberedSecrets.save(consultationId, s);
    return s;
  });
  const [user, setUser] = useState<User | null>();
  const [check, setCheck] = useState<Check>();
  const [call, setCall] = useState<{ call: ConsultationCall; stream: MediaStream }>();
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

  if (call && user) return <CallView call={call.call} stream={call.stream} name={user.name} />;
  return (
    <main className="page narrow">
      <header className="app-header">
        <h1>Confide</h1>
        <LanguageSwitch />
      </header>
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
      ) : (
        <DeviceCheck onReady={(stream) => setCall({ call: new ConsultationCall(consultationId, secret), stream })} />
      )}
    </main>
  );
}
