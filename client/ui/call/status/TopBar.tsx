import type { ReactNode } from 'react';
import type { CallSession } from '../../../call/call-session.ts';
import { LanguageSwitch, useI18n } from '../../i18n.tsx';
import { E2eeBadge, type BadgeStatus } from '../E2eeBadge.tsx';
import { NetworkHint } from '../NetworkHint.tsx';

interface Props {
  /** Announced to screen readers (joining, waiting for the other person, someone waiting…). */
  statusText: string;
  badge: BadgeStatus | undefined;
  /** False while reconnecting or lost: the badge then claims nothing. */
  connected: boolean;
  safetyCode: string | undefined;
  session: CallSession;
  securityOpen: boolean;
  securityPanelId: string;
  onToggleSecurity: () => void;
  /** The connection banner (reconnecting…, reconnected, could not reconnect + Rejoin); renders nothing when all is well. */
  banner?: ReactNode;
}

/**
 * The compact top bar: one button with the E2EE state and the safety code
 * (opens the explanation), the network hint and the language; the
 * connection banner, when there is one, on its own line below.
 */
export function TopBar({ statusText, badge, connected, safetyCode, session, securityOpen, securityPanelId, onToggleSecurity, banner }: Props) {
  const { t } = useI18n();
  return (
    <header className="top-bar">
      <h1 className="sr-only">{t('consultation')}</h1>
      <span className="sr-only" role="status">
        {statusText}
        {badge?.state === 'failing' ? ` — ${badge.text}` : ''}
      </span>
      <button
        type="button"
        className="security-button"
        aria-expanded={securityOpen}
        aria-controls={securityPanelId}
        onClick={onToggleSecurity}
      >
        <span className="sr-only">{t('csSecurityOpen')}: </span>
        {badge ? <E2eeBadge status={badge} reconnecting={!connected} /> : null}
        {safetyCode ? (
          <span className="code">
            <span className="sr-only">{t('safetyCode')} </span>
            <strong data-testid="safety-code">{safetyCode}</strong>
          </span>
        ) : null}
      </button>
      <span className="top-right">
        <NetworkHint session={session} connected={connected} />
        <LanguageSwitch />
      </span>
      <div className="top-banner">{banner}</div>
    </header>
  );
}
