import type { E2eeStats } from '../../../e2ee/worker-messages.ts';
import type { KeyAgreementSnapshot } from '../../../e2ee/key-agreement-client.ts';
import { useI18n } from '../../i18n.tsx';
import type { BadgeStatus } from '../E2eeBadge.tsx';
import { E2eeDebugPanel } from '../E2eePanel.tsx';

interface Props {
  titleId: string;
  status: BadgeStatus | undefined;
  ka: KeyAgreementSnapshot | undefined;
  stats: E2eeStats | undefined;
  names: Record<string, string>;
}

/**
 * What the top bar's lock and code mean: what is encrypted and who can read
 * it, the status right now (never more than the Worker's counters show),
 * the safety code and how to compare it, and the per-participant counters.
 */
export function SecurityDetails({ titleId, status, ka, stats, names }: Props) {
  const { t } = useI18n();
  return (
    <section className="security-details" aria-labelledby={titleId}>
      <h2 id={titleId} tabIndex={-1}>
        {t('csSecurityTitle')}
      </h2>
      <p>{t('csSecurityExplain')}</p>
      {status ? <p className={`security-now ${status.state}`}>{t('csStatusNow', { status: status.text })}</p> : null}
      {ka?.safetyCode ? (
        <div className="safety-code">
          <p>
            {t('safetyCode')} <strong>{ka.safetyCode}</strong>
          </p>
          <p>{t('safetyHelp')}</p>
          <p>{t('csCodeHow')}</p>
        </div>
      ) : null}
      <E2eeDebugPanel stats={stats} names={names} />
    </section>
  );
}
