// The connection state, said plainly (issue 9): reconnecting (and what is
// happening), reconnected for a moment, or could not reconnect with a Rejoin
// button. Nothing is shown while all is well.
import { useEffect, useState } from 'react';
import type { ConnectionSnapshot } from '../../call/connection/connection-state.ts';
import { useI18n, type StringKey } from '../i18n.tsx';

/** How long "Reconnected." stays up after a recovery (ms). */
export const RECONNECTED_SHOWN_MS = 4000;

const STEP_TEXT: Record<NonNullable<ConnectionSnapshot['step']>, StringKey> = {
  signalling: 'connReconnectingSignalling',
  resuming: 'connReconnectingResuming',
  rejoining: 'connReconnectingRejoining',
  media: 'connReconnectingMedia',
};

function lostText(c: ConnectionSnapshot): StringKey {
  if (c.lostReason === 'unreachable') return 'connLostUnreachable';
  if (c.lostCode === 'ended') return 'connLostEnded';
  if (c.lostCode === 'expired') return 'connLostExpired';
  if (c.lostCode === 'unauthenticated') return 'connLostReadmit';
  return 'connLostRefused';
}

/** True for a moment after `at` (ms since epoch); re-renders when it flips. */
export function useRecent(at: number | undefined, forMs: number): boolean {
  const [, tick] = useState(0);
  const recent = at !== undefined && Date.now() - at < forMs;
  useEffect(() => {
    if (!recent || at === undefined) return;
    const t = setTimeout(() => tick((n) => n + 1), Math.max(0, at + forMs - Date.now()) + 50);
    return () => clearTimeout(t);
  }, [recent, at, forMs]);
  return recent;
}

export function ConnectionBanner({ connection, onRejoin }: { connection: ConnectionSnapshot; onRejoin: () => void }) {
  const { t } = useI18n();
  const reconnected = useRecent(connection.recoveredAt, RECONNECTED_SHOWN_MS);
  const c = connection;
  if (c.phase === 'reconnecting') {
    return (
      <p className="banner warn conn-banner" role="status" data-testid="connection-banner" data-phase="reconnecting" data-step={c.step}>
        <span className="spinner" aria-hidden="true" /> {t(STEP_TEXT[c.step ?? 'signalling'])}
        {c.attempt > 1 ? <span className="muted"> ({t('connAttempt', { n: c.attempt })})</span> : null}
      </p>
    );
  }
  if (c.phase === 'lost') {
    return (
      <div className="banner danger conn-banner" role="alert" data-testid="connection-banner" data-phase="lost" data-reason={c.lostCode ?? c.lostReason}>
        <span>{t(lostText(c))}</span>{' '}
        {c.lostCode !== 'ended' && c.lostCode !== 'expired' ? (
          <button type="button" onClick={onRejoin} data-testid="rejoin">
            {t('rejoin')}
          </button>
        ) : null}
      </div>
    );
  }
  if (c.phase === 'connected' && reconnected) {
    return (
      <p className="banner ok conn-banner" role="status" data-testid="connection-banner" data-phase="reconnected" data-by={c.recoveredBy}>
        {t('connReconnected')}
      </p>
    );
  }
  return null;
}
