import type { KeyAgreementSnapshot } from '../../e2ee/key-agreement-client.ts';
import { useI18n } from '../i18n.tsx';

/**
 * A loud warning over the stage for any participant whose key failed
 * verification (someone may be in the middle). The safety code itself is in
 * the top bar (status/TopBar.tsx) and explained in the security panel.
 */
export function SecurityWarnings({ ka, names }: { ka: KeyAgreementSnapshot | undefined; names: Record<string, string> }) {
  const { t } = useI18n();
  if (!ka) return null;
  const warned = [...new Set(ka.warnings.map((w) => w.peerId))];
  return (
    <>
      {warned.map((peerId) => (
        <p key={peerId} className="notice danger" role="alert" data-testid="security-warning">
          {t('securityWarning', { name: names[peerId] ?? peerId.slice(0, 8) })}
        </p>
      ))}
    </>
  );
}
