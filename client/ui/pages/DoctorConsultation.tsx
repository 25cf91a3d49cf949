import { useEffect, useState } from 'react';
import { api, type User } from '../../api/api-client.ts';
import { readFragment, rememberedSecrets } from '../../call/invite-links.ts';
import { ConsultationCall } from '../../call/consultation-call.ts';
import { DeviceCheck } from '../DeviceCheck.tsx';
import { CallView } from '../call/CallView.tsx';
import { LoginForm } from './LoginForm.tsx';
import { LanguageSwitch, useI18n } from '../i18n.tsx';

/** The doctor's link: sign in if needed, device check, then the call with its waiting room. */
export function DoctorConsultation({ consultationId }: { consultationId: string }) {
  const { t } = useI18n();
  const [secret] = useState(() => {
    const s = readFragment(window.location.hash).secret ?? rememberedSecrets.load(consultationId);
    if (s) rememberedSecrets.save(consultationId, s);
    return s;
  });
  const [user, setUser] = useState<User | null>();
  const [call, setCall] = useState<{ call: ConsultationCall; stream: MediaStream }>();
  useEffect(() => {
    api.me().then(setUser, () => setUser(null));
  }, []);

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
      ) : user === undefined ? null : user === null || user.role !== 'doctor' ? (
        <LoginForm onSignedIn={setUser} intro={t('signInToOpen')} />
      ) : (
        <DeviceCheck onReady={(stream) => setCall({ call: new ConsultationCall(consultationId, secret), stream })} />
      )}
    </main>
  );
}
