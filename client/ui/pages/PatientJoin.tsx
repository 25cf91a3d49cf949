import { useCallback, useEffect, useState } from 'react';
import type { LinkCheckAnswer } from '../../api/api-client.ts';
import { readFragment } from '../../call/invite-links.ts';
import { ConsultationCall, RequestError } from '../../call/consultation-call.ts';
import { callMemory } from '../../call/call-memory.ts';
import { devicesOf, openLocalMedia } from '../../call/local-media.ts';
import { DeviceCheck } from '../DeviceCheck.tsx';
import { CallView } from '../call/CallView.tsx';
import { useI18n } from '../i18n.tsx';
import { PageShell } from '../PageShell.tsx';
import { LinkCheck, PatientStopped, type PatientStopReason } from './patient/LinkCheck.tsx';
import { WaitingRoom } from './patient/WaitingRoom.tsx';

type StopReason = PatientStopReason;
type Step =
  | { kind: 'check' }
  | { kind: 'returning' }
  | { kind: 'returning-waiting' }
  | { kind: 'waiting'; stream: MediaStream }
  | { kind: 'call'; call: ConsultationCall; stream: MediaStream }
  | { kind: 'stopped'; reason: StopReason };

function stopReason(err: unknown): StopReason {
  const code = err instanceof RequestError ? err.code : '';
  // 'rate-limited': the waiting room is full, or the link entered too often (issue 12): try again later.
  return code === 'ended' ? 'ended' : code === 'expired' ? 'expired' : code === 'rate-limited' ? 'busy' : 'invalid';
}

/**
 * The patient's path: link check → device check → waiting room → call. No
 * account: the link is the key. A tab that was in the call (a reload, a crash) goes
 * straight back in with its rejoin credential: no device check, no name to
 * type, no second admission.
 */
export function PatientJoin({ consultationId }: { consultationId: string }) {
  const { t } = useI18n();
  const [fragment] = useState(() => readFragment(window.location.hash));
  const [memory] = useState(() => callMemory.load(consultationId));
  const [name, setName] = useState(memory.name ?? '');
  const [doctorName, setDoctorName] = useState<string>();
  const onChecked = useCallback((a: LinkCheckAnswer) => {
    if ('doctorName' in a) setDoctorName(a.doctorName);
  }, []);
  const [step, setStep] = useState<Step>(() =>
    !fragment.secret || !fragment.token
      ? { kind: 'stopped', reason: 'incomplete' }
      : memory.inCall && memory.rejoinToken
        ? { kind: 'returning' }
        : memory.waiting && memory.name
          ? { kind: 'returning-waiting' }
          : { kind: 'check' },
  );

  // Back into the call after a reload: the same devices, the credential, no admission.
  useEffect(() => {
    if (step.kind !== 'returning' || !fragment.secret) return;
    let live = true;
    openLocalMedia(memory.devices).then(
      (stream) => {
        if (!live) return stream.getTracks().forEach((tr) => tr.stop());
        setStep({ kind: 'call', call: new ConsultationCall(consultationId, fragment.secret!, 'patient'), stream });
      },
      () => live && setStep({ kind: 'check' }),
    );
    return () => {
      live = false;
    };
  }, [step.kind, fragment.secret, memory.devices, consultationId]);

  // Reloaded in the waiting room: the same devices and name, straight back to waiting.
  useEffect(() => {
    if (step.kind !== 'returning-waiting') return;
    let live = true;
    openLocalMedia(memory.devices).then(
      (stream) => (live ? void enter(stream) : stream.getTracks().forEach((tr) => tr.stop())),
      () => live && setStep({ kind: 'check' }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [step.kind]);

  const enter = async (stream: MediaStream) => {
    const { secret, token } = fragment;
    if (!secret || !token) return;
    const displayName = name.trim();
    callMemory.update(consultationId, { name: displayName, devices: devicesOf(stream), waiting: true });
    const call = new ConsultationCall(consultationId, secret, 'patient');
    setStep({ kind: 'waiting', stream });
    try {
      const decision = await call.waitForAdmission(token, displayName);
      callMemory.update(consultationId, { waiting: false });
      if (decision !== 'admitted') {
        call.close();
        stream.getTracks().forEach((tr) => tr.stop());
        callMemory.forget(consultationId);
        setStep({ kind: 'stopped', reason: decision });
        return;
      }
      setStep({ kind: 'call', call, stream });
    } catch (err) {
      call.close();
      stream.getTracks().forEach((tr) => tr.stop());
      callMemory.update(consultationId, { waiting: false });
      setStep({ kind: 'stopped', reason: stopReason(err) });
    }
  };

  /** The call could not start, or the rejoin credential no longer works: say why, or wait to be admitted again. */
  const joinFailed = (call: ConsultationCall, stream: MediaStream, err: unknown) => {
    call.close();
    stream.getTracks().forEach((tr) => tr.stop());
    const code = err instanceof RequestError ? err.code : '';
    if (code === 'unauthenticated') {
      callMemory.update(consultationId, { inCall: false });
      setStep({ kind: 'check' });
    } else {
      callMemory.forget(consultationId);
      setStep({ kind: 'stopped', reason: stopReason(err) });
    }
  };

  if (step.kind === 'call') {
    return (
      <CallView
        call={step.call}
        stream={step.stream}
        name={name.trim() || memory.name || ''}
        onJoinFailed={(err) => joinFailed(step.call, step.stream, err)}
        onReadmission={() => joinFailed(step.call, step.stream, new RequestError('unauthenticated', 'admit again'))}
      />
    );
  }
  return (
    <PageShell step={step.kind}>
      {step.kind === 'check' ? (
        <LinkCheck consultationId={consultationId} token={fragment.token ?? ''} onChecked={onChecked}>
          <DeviceCheck onReady={(s) => void enter(s)} canContinue={name.trim().length > 0}>
            <label htmlFor="patient-name">{t('yourName')}</label>
            <input id="patient-name" data-testid="patient-name" autoComplete="name" maxLength={64} value={name} onChange={(e) => setName(e.target.value)} />
          </DeviceCheck>
          {/* The day before: a test of this network that admits nobody and opens nothing (only the token goes along). */}
          <p>
            <a href={`/check/${consultationId}#t=${fragment.token ?? ''}`} target="_blank" rel="noopener" data-testid="check-link">
              {t('ckTitle')}
            </a>
          </p>
        </LinkCheck>
      ) : step.kind === 'returning' || step.kind === 'returning-waiting' ? (
        <section className="card" aria-live="polite" data-testid="returning">
          <p>{t('returningToCall')}</p>
        </section>
      ) : step.kind === 'waiting' ? (
        <WaitingRoom doctorName={doctorName} stream={step.stream} />
      ) : (
        <PatientStopped reason={step.reason}>
          {step.reason === 'declined' || step.reason === 'busy' ? (
            <button type="button" data-testid="try-again" onClick={() => setStep({ kind: 'check' })}>
              {t('tryAgain')}
            </button>
          ) : null}
        </PatientStopped>
      )}
    </PageShell>
  );
}
