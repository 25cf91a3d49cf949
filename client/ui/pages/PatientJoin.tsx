import { useState } from 'react';
import { readFragment } from '../../call/invite-links.ts';
import { ConsultationCall, RequestError } from '../../call/consultation-call.ts';
import { DeviceCheck } from '../DeviceCheck.tsx';
import { CallView } from '../call/CallView.tsx';
import { LanguageSwitch, useI18n } from '../i18n.tsx';
import { LinkCheck } from './patient/LinkCheck.tsx';

type Step =
  | { kind: 'check' }
  | { kind: 'waiting' }
  | { kind: 'call'; call: ConsultationCall; stream: MediaStream }
  | { kind: 'stopped'; reason: 'declined' | 'ended' | 'invalid' | 'expired' | 'incomplete' };

/** The patient's path: link check → device check → waiting room → call. No account: the link is the key. */
export function PatientJoin({ consultationId }: { consultationId: string }) {
  const { t } = useI18n();
  const [fragment] = useState(() => readFragment(window.location.hash));
  const [name, setName] = useState('');
  const [step, setStep] = useState<Step>(() =>
    fragment.secret && fragment.token ? { kind: 'check' } : { kind: 'stopped', reason: 'incomplete' },
  );

  const enter = async (stream: MediaStream) => {
    const { secret, token } = fragment;
    if (!secret || !token) return;
    const call = new ConsultationCall(consultationId, secret);
    setStep({ kind: 'waiting' });
    try {
      const decision = await call.waitForAdmission(token, name.trim());
      if (decision !== 'admitted') {
        call.close();
        stream.getTracks().forEach((tr) => tr.stop());
        setStep({ kind: 'stopped', reason: decision });
        return;
      }
      setStep({ kind: 'call', call, stream });
    } catch (err) {
      call.close();
      stream.getTracks().forEach((tr) => tr.stop());
      const code = err instanceof RequestError ? err.code : '';
      setStep({ kind: 'stopped', reason: code === 'ended' ? 'ended' : code === 'expired' ? 'expired' : 'invalid' });
    }
  };

  if (step.kind === 'call') return <CallView call={step.call} stream={step.stream} name={name.trim()} />;
  return (
    <main className="page narrow" data-step={step.kind}>
      <header className="app-header">
        <h1>Confide</h1>
        <LanguageSwitch />
      </header>
      {step.kind === 'check' ? (
        <LinkCheck consultationId={consultationId} token={fragment.token ?? ''}>
          <DeviceCheck onReady={(s) => void enter(s)} canContinue={name.trim().length > 0}>
            <label htmlFor="patient-name">{t('yourName')}</label>
            <input id="patient-name" autoComplete="name" maxLength={64} value={name} onChange={(e) => setName(e.target.value)} />
          </DeviceCheck>
        </LinkCheck>
      ) : step.kind === 'waiting' ? (
        <section className="card" aria-live="polite" data-testid="waiting-room">
          <h2>{t('waitingRoom')}</h2>
          <p>{t('waitingForDoctor')}</p>
        </section>
      ) : (
        <p role="alert" className="banner danger" data-testid="join-stopped" data-reason={step.reason}>
          {t(
            step.reason === 'declined'
              ? 'declinedText'
              : step.reason === 'ended'
                ? 'endedText'
                : step.reason === 'expired'
                  ? 'linkExpired'
                  : step.reason === 'incomplete'
                    ? 'linkIncomplete'
                    : 'linkInvalid',
          )}
        </p>
      )}
    </main>
  );
}
