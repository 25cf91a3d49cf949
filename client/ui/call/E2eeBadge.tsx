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

export function E2eeBadge({ stats, ka, names }: { stats: E2eeStats | undefined; ka: KeyAgreementSnapshot | undefined; names: Record<string, string> }) {
  const { t } = useI18n();
  const prev = useRef<{ at: E2eeStats | undefined; shown: E2eeStats | undefined }>({ at: undefined, shown: undefined });
  if (!stats) return null;
  if (prev.current.shown !== stats) prev.current = { at: prev.current.shown, shown: stats };
  const { state, failing } = badgeState(prev.current.at, stats, Object.keys(names));
  const text =
    state === 'failing'
      ? t('e2eeFailing', { names: failing.map((p) => names[p] ?? p).join(', ') })
      : state === 'decrypting'
        ? t('e2eeDecrypting')
        : state === 'keys' && (ka?.verifiedPeers.length ?? 0) > 0
          ? t('e2eeKeys')
          : t('e2eeOk');
  if (state === 'no-key') return null;
  return (
    <span className={`badge ${state}`} data-testid="e2ee-badge" data-state={state} role="status">
      <svg className="badge-icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
        {state === 'failing' ? (
          <path d="M8 1 15 14H1Z M7.3 6h1.4v4H7.3Z M7.3 11h1.4v1.4H7.3Z" fill="currentColor" fillRule="evenodd" />
        ) : (
          <path d="M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7Zm2 0h4V5a2 2 0 0 0-4 0Z" fill="currentColor" fillRule="evenodd" />
        )}
      </svg>{' '}
      {text}
    </span>
  );
}
