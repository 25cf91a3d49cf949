import { useCallback, useState } from 'react';
import { readFragment } from '../../call/invite-links.ts';
import { CHECK_STEPS, runConnectionCheck, type CheckResults, type CheckStep, type StepState, type Verdict } from '../../check/connection-check.ts';
import { useI18n, type StringKey } from '../i18n.tsx';
import { PageShell } from '../PageShell.tsx';

const STEP_LABEL: Record<CheckStep, StringKey> = {
  devices: 'ckStepDevices',
  encryption: 'ckStepEncryption',
  signalling: 'ckStepSignalling',
  udp: 'ckStepUdp',
  tcp: 'ckStepTcp',
  relay: 'ckStepRelay',
};
const STATE_LABEL: Record<StepState, StringKey> = { pending: 'ckPending', running: 'ckRunning', ok: 'ckOk', failed: 'ckFailed', skipped: 'ckSkipped' };
const VERDICT: Record<Verdict, StringKey> = {
  good: 'ckVerdictGood',
  'tcp-only': 'ckVerdictTcpOnly',
  'relay-only': 'ckVerdictRelayOnly',
  blocked: 'ckVerdictBlocked',
  'no-devices': 'ckVerdictNoDevices',
  unsupported: 'ckVerdictUnsupported',
  link: 'ckVerdictLink',
  'no-server': 'ckVerdictNoServer',
};

/**
 * "/check/<id>#t=…": the pre-appointment connection check, from the patient
 * link (the same fragment; the room secret is not used). No admission, no
 * access to the consultation: see client/check/connection-check.ts.
 * `data-step`/`data-state` and `data-verdict` let `npm run check` and the
 * tests read the outcome.
 */
export function ConnectionCheck({ consultationId }: { consultationId: string }) {
  const { t } = useI18n();
  const [token] = useState(() => readFragment(window.location.hash).token);
  const [results, setResults] = useState<CheckResults>();
  const [verdict, setVerdict] = useState<Verdict>();
  const [running, setRunning] = useState(false);
  const start = useCallback(() => {
    if (!token || running) return;
    setRunning(true);
    setVerdict(undefined);
    void runConnectionCheck(consultationId, token, setResults).then((r) => {
      setResults(r.results);
      setVerdict(r.verdict);
      setRunning(false);
    });
  }, [consultationId, token, running]);

  return (
    <PageShell>
      <h1>{t('ckTitle')}</h1>
      <p>{t('ckIntro')}</p>
      {!token ? (
        <p role="alert" data-verdict="link">{t('ckVerdictLink')}</p>
      ) : (
        <>
          <button type="button" onClick={start} disabled={running} data-testid="check-start">
            {t(results ? 'ckAgain' : 'ckStart')}
          </button>
          {results && (
            <ul aria-live="polite" data-testid="check-steps">
              {CHECK_STEPS.map((s) => (
                <li key={s} data-step={s} data-state={results[s]}>
                  {t('ckStepLine', { step: t(STEP_LABEL[s]), state: t(STATE_LABEL[results[s]]) })}
                </li>
              ))}
            </ul>
          )}
          {verdict && (
            <p role="status" data-testid="check-verdict" data-verdict={verdict}>
              {t(VERDICT[verdict])}
            </p>
          )}
        </>
      )}
    </PageShell>
  );
}
