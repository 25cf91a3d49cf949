import { useEffect, useState } from 'react';
import { api, type User } from '../../api/api-client.ts';
import { readFragment, rememberedSecrets } from '../../call/invite-links.ts';
import { ConsultationCall } from '../../call/consultation-call.ts';
import { callMemory } from '../../call/call-memory.ts';
import { devicesOf, openLocalMedia } from '../../call/local-media.ts';
import { DeviceCheck } from '../DeviceCheck.tsx';
import { CallView } from '../call/CallView.tsx';
import { LoginForm } from './LoginForm.tsx';
import { LanguageSwitch, useI18n } from '../i18n.tsx';

/**
 * The doctor's link: sign in if needed, device check, then the call with its
 * waiting room. A tab that was in the call (reload) goes straight back in.
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
  const [call, setCall] = useState<{ call: ConsultationCall; stream: MediaStream }>();
  const [returning, setReturning] = useState(memory.inCall === true);
  useEffect(() => {
    api.me().then(setUser, () => setUser(null));
  }, []);

  const start = (stream: MediaStream) => {
    if (!secret) return;
    callMemory.update(consultationId, { devices: devicesOf(stream) });
    setCall({ call: new ConsultationCall(consultationId, secret, 'doctor'), stream });
  };

  // Back into the call after a reload, with the same devices.
  useEffect(() => {
    if (!returning || !user || user.role !== 'doctor' || call || !secret) return;
    let live = true;
    openLocalMedia(memory.devices).then(
      (stream) => (live ? start(stream) : stream.getTracks().forEach((tr) => tr.stop())),
      () => live && setReturning(false),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [returning, user, call, secret]);

  if (call && user) {
    return <CallView call={call.call} stream={call.stream} name={user.name} />;
  }
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
      ) : user === undefined ? null : user === null || user.role !== 'doctor' ? (
        <LoginForm onSignedIn={setUser} intro={t('signInToOpen')} />
      ) : returning ? (
        <section className="card" aria-live="polite" data-testid="returning">
          <p>{t('returningToCall')}</p>
        </section>
      ) : (
        <DeviceCheck onReady={start} />
      )}
    </main>
  );
}
