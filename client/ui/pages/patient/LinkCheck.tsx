import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { api, type LinkCheckAnswer } from '../../../api/api-client.ts';
import { useI18n, type StringKey } from '../../i18n.tsx';
import { errorText } from '../../errors.ts';
import { dayAndTime } from '../../format.ts';

/** Why a patient link stops before the call; `incomplete`: no token or key in its fragment. */
export type PatientStopReason = 'invalid' | 'expired' | 'ended' | 'declined' | 'incomplete';

const TEXT: Record<PatientStopReason, [StringKey, StringKey?]> = {
  invalid: ['linkInvalid', 'linkInvalidHelp'],
  expired: ['linkExpired', 'linkExpiredHelp'],
  ended: ['endedText', 'linkEndedHelp'],
  declined: ['declinedText'],
  incomplete: ['linkIncomplete'],
};

/** Why the patient cannot go on, and what to do next. */
export function PatientStopped({ reason, children }: { reason: PatientStopReason; children?: ReactNode }) {
  const { t } = useI18n();
  const [what, next] = TEXT[reason];
  return (
    <section role="alert" className="banner danger" data-testid="join-stopped" data-reason={reason}>
      {children}
      <p>{t(what)}</p>
      {next ? <p>{t(next)}</p> : null}
    </section>
  );
}

/** "Consultation with Dr Martin, today 14:30", in the page's language. */
function WithWhomAndWhen({ answer }: { answer: Extract<LinkCheckAnswer, { doctorName: string }> }) {
  const { t, lang } = useI18n();
  return <strong data-testid="link-with">{t('linkWith', { doctor: answer.doctorName, ...dayAndTime(lang, answer.scheduledAt) })}</strong>;
}

type State = { kind: 'checking' } | { kind: 'failed'; error: unknown } | { kind: 'done'; answer: LinkCheckAnswer };

/**
 * Checks the patient's link with the server (POST /api/patient/link-check,
 * the token in the body) before anything else: only a working link renders
 * `children` (the device check, which asks for the camera), under the
 * consultation's doctor and time. An invalid, expired or ended link says so.
 */
export function LinkCheck({
  consultationId,
  token,
  children,
  onChecked,
}: {
  consultationId: string;
  token: string;
  children: ReactNode;
  /** The server's answer, once known (the waiting room names the doctor from it). */
  onChecked?: (answer: LinkCheckAnswer) => void;
}) {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ kind: 'checking' });
  const check = useCallback(() => {
    setState({ kind: 'checking' });
    let live = true;
    api.linkCheck(consultationId, token).then(
      (answer) => {
        if (!live) return;
        setState({ kind: 'done', answer });
        onChecked?.(answer);
      },
      (error: unknown) => live && setState({ kind: 'failed', error }),
    );
    return () => {
      live = false;
    };
  }, [consultationId, token, onChecked]);
  useEffect(check, [check]);

  if (state.kind === 'checking') {
    return (
      <p aria-live="polite" data-testid="link-checking">
        {t('linkChecking')}
      </p>
    );
  }
  if (state.kind === 'failed') {
    return (
      <div role="alert" className="banner danger" data-testid="link-check-failed">
        <p>{t('linkCheckFailed', { reason: errorText(t, state.error) })}</p>
        <button type="button" onClick={check}>
          {t('tryAgain')}
        </button>
      </div>
    );
  }
  const { answer } = state;
  if (answer.state === 'invalid') return <PatientStopped reason="invalid" />;
  if (answer.state !== 'ok') {
    return (
      <PatientStopped reason={answer.state}>
        <p>
          <WithWhomAndWhen answer={answer} />
        </p>
      </PatientStopped>
    );
  }
  return (
    <>
      <p className="card" data-testid="link-ok">
        <WithWhomAndWhen answer={answer} />
      </p>
      {children}
    </>
  );
}
