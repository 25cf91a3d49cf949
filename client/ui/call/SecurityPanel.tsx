import type { KeyAgreementSnapshot } from '../../e2ee/key-agreement-client.ts';
import { useI18n } from '../i18n.tsx';

/** The safety code to compare aloud, and a loud warning for any key that failed verification. */
export function SecurityPanel({ ka, names }: { ka: KeyAgreementSnapshot | undefined; names: Record<string, string> }) {
  const { t } = useI18n();
  if (!ka) return null;
  const warned = [...new Set(ka.warnings.map((w) => w.peerId))];
  return (
    <section className="security" aria-label={t('safetyCode')}>
      {warned.map((peerId) => (
        <p key={peerId} className="banner danger" role="alert" data-testid="security-warning">
          {t('securityWarning', { name: names[peerId] ?? peerId.slice(0, 8) })}
        </p>
      ))}
      {ka.safetyCode ? (
        <p className="safety-code">
          <span>{t('safetyCode')}</span> <strong data-testid="safety-code">{ka.safetyCode}</strong>
          <br />
          <small>{t('safetyHelp')}</small>
        </p>
      ) : null}
    </section>
  );
}
