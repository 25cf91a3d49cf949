import { useRef } from 'react';
import type { E2eeStats } from '../../e2ee/worker-messages.ts';
import type { KeyAgreementSnapshot } from '../../e2ee/key-agreement-client.ts';
import { useI18n } from '../i18n.tsx';

export type BadgeState = 'no-key' | 'keys' | 'decrypting' | 'failing';

/**
 * What the badge claims comes from the frame Worker's counters between two
 * polls: "decrypting" only while frames from every participant authenticate,
 * "failing" as soon as one participant's frames are being dropped.
 */
export function badgeState(prev: E2eeStats | undefined, now: E2eeStats, peers: string[]): { state: BadgeState; failing: string[] } {
  if (now.sender.kid === undefined) return { state: 'no-key', failing: [] };
  const delta = (peer: string, f: (r: E2eeStats['receivers'][string]) => number) => {
    const a = now.receivers[peer];
    const b = prev?.receivers[peer];
    return (a ? f(a) : 0) - (b ? f(b) : 0);
  };
  const failing = peers.filter(
    (p) => delta(p, (r) => r.decrypted) === 0 && delta(p, (r) => r.failedAuth + r.wrongSender + r.malformed + r.droppedNoKey) > 0,
  );
  if (failing.length) return { state: 'failing', failing };
  if (peers.length > 0 && peers.every((p) => delta(p, (r) => r.decrypted) > 0)) return { state: 'decrypting', failing: [] };
  return { state: 'keys', failing: [] };
}

/** What the badge says, in full (security panel) and short (top bar). */
export interface BadgeStatus {
  state: BadgeState;
  /** peerIds whose media does not decrypt (state 'failing'). */
  failing: string[];
  text: string;
  short: string;
}

/**
 * Folds the polled Worker stats into the badge's status. Call it once per
 * screen: it remembers the previous poll to compute deltas (badgeState).
 * undefined until the first stats arrive.
 */
export function useBadgeStatus(
  stats: E2eeStats | undefined,
  ka: KeyAgreementSnapshot | undefined,
  names: Record<string, string>,
): BadgeStatus | undefined {
  const { t } = useI18n();
  const prev = useRef<{ at: E2eeStats | undefined; shown: E2eeStats | undefined }>({ at: undefined, shown: undefined });
  if (!stats) return undefined;
  if (prev.current.shown !== stats) prev.current = { at: prev.current.shown, shown: stats };
  const { state, failing } = badgeState(prev.current.at, stats, Object.keys(names));
  const text =
    state === 'no-key'
      ? t('waitingKeys')
      : state === 'failing'
        ? t('e2eeFailing', { names: failing.map((p) => names[p] ?? p).join(', ') })
        : state === 'decrypting'
          ? t('e2eeDecrypting')
          : state === 'keys' && (ka?.verifiedPeers.length ?? 0) > 0
            ? t('e2eeKeys')
            : t('e2eeOk');
  const short = state === 'no-key' ? t('csShortNoKey') : state === 'failing' ? t('csShortFailing') : t('csShortOk');
  return { state, failing, text, short };
}

/**
 * The compact pill in the top bar: a lock (or a warning sign) and one or two
 * words. While the connection is down (`reconnecting`) it claims nothing.
 */
export function E2eeBadge({ status, reconnecting = false }: { status: BadgeStatus; reconnecting?: boolean }) {
  const { t } = useI18n();
  if (reconnecting) {
    return (
      <span className="badge keys" data-testid="e2ee-badge" data-state="reconnecting">
        {t('e2eeReconnecting')}
      </span>
    );
  }
  return (
    <span className={`badge ${status.state}`} data-testid="e2ee-badge" data-state={status.state} title={status.text}>
      <svg className="badge-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
        {status.state === 'failing' || status.state === 'no-key' ? (
          <path d="M8 1 15 14H1Z M7.3 6h1.4v4H7.3Z M7.3 11h1.4v1.4H7.3Z" fill="currentColor" fillRule="evenodd" />
        ) : (
          <path d="M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7Zm2 0h4V5a2 2 0 0 0-4 0Z" fill="currentColor" fillRule="evenodd" />
        )}
      </svg>{' '}
      {status.short}
    </span>
  );
}
