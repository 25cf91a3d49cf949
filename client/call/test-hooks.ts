// Read-only window.__confide hooks that the headless-browser tests use to
// measure a call (what getStats says), the same figures the UI shows.
// Only the test build has them: every caller guards its use with
// `__CONFIDE_TEST_HOOKS__` (false in production, see vite.config.ts), so this
// module is not in the production bundle at all.
import type { CallSession } from './call-session.ts';

export interface InboundStat {
  peerId: string;
  kind: string;
  framesDecoded: number;
  packetsReceived: number;
  bytesReceived: number;
}

export async function inboundStats(session: CallSession): Promise<InboundStat[]> {
  const out: InboundStat[] = [];
  for (const { consumer, peerId } of session.consumerEntries()) {
    // A consumer can close while we await another's stats (its peer left).
    const report = consumer.closed ? undefined : await consumer.getStats().catch(() => undefined);
    if (!report) continue;
    report.forEach((s: Record<string, unknown>) => {
      if (s.type !== 'inbound-rtp') return;
      out.push({
        peerId,
        kind: consumer.kind,
        framesDecoded: Number(s.framesDecoded ?? 0),
        packetsReceived: Number(s.packetsReceived ?? 0),
        bytesReceived: Number(s.bytesReceived ?? 0),
      });
    });
  }
  return out;
}

declare global {
  interface Window {
    __confide?: Record<string, unknown>;
  }
}

export function exposeTestHooks(hooks: Record<string, unknown>): void {
  window.__confide = { ...(window.__confide ?? {}), ...hooks };
}

/**
 * Hooks that touch key material exist only when the test harness opted in
 * via localStorage: nothing the server sends (URL, query) can turn them on.
 * - 'observe': real key agreement, plus a log of every key this page held;
 * - 'manual': no key agreement; the test sets keys itself (frame-layer tests).
 */
export type KeyHookMode = 'off' | 'observe' | 'manual';

export function keyHookMode(): KeyHookMode {
  try {
    const v = window.localStorage.getItem('confide.testKeyHooks');
    return v === 'observe' || v === 'manual' ? v : 'off';
  } catch {
    return 'off';
  }
}
