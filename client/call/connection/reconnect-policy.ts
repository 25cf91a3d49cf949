/**
 * When to try again after a connection fault, and when to stop. Pure: the
 * clock and the randomness come in, so tests can tabulate it.
 *
 * Delays follow LiveKit's idea (a short table, then a cap) but stay short
 * while a quick resume is still possible: a short drop must give two-way
 * media back within 2 s of its end, and the resume itself takes about
 * 0.2–0.4 s, so no client may sleep much more than 1 s between tries
 * during the server's grace period (30 s). Measured with the old table
 * (1–2 s steps after the first second): a 3-s drop took 0.8–2.2 s, of
 * which all but about 0.3 s was the sleep. Past the grace period the place is gone
 * anyway (a full rejoin follows), so tries slow to every 2 s, which still
 * leaves a restarted server's clients well inside the 5-s goal. A try is one
 * WebSocket handshake, cheap for the server; the jitter (±20 %) spreads a
 * whole clinic's clients after a server restart. The policy gives up after
 * `maxElapsedMs` of trying, and the page then says "could not reconnect"
 * with a Rejoin button.
 * @module
 */

/** One stretch of a fault's life: the delays (ms, by attempt; the last repeats) used while the fault is younger than `beforeMs`. */
export interface RetryTier {
  beforeMs: number;
  delaysMs: readonly number[];
}

/**
 * The default schedule (ms). Attempt 0 is immediate, then a try every
 * 500 ms for the first 10 s (most drops: a Wi-Fi to 4G switch, a lift, a
 * tunnel), every 1000 ms until the fault is 30 s old (the server's grace
 * period, CONFIDE_GRACE_MS default), then every 2000 ms.
 */
export const RETRY_TIERS: readonly RetryTier[] = [
  { beforeMs: 10_000, delaysMs: [0, 250, 500] },
  { beforeMs: 30_000, delaysMs: [1000] },
  { beforeMs: Number.POSITIVE_INFINITY, delaysMs: [2000] },
];
/** Give up after trying for this long (ms). */
export const MAX_RETRY_MS = 120_000;

export interface RetryContext {
  /** 0 for the first attempt after the fault. */
  attempt: number;
  /** Time since the fault began (ms). */
  elapsedMs: number;
}

export interface ReconnectPolicy {
  /** Milliseconds to wait before `ctx.attempt`, or null to give up. */
  nextDelayMs(ctx: RetryContext): number | null;
}

/**
 * The default policy. `random` returns [0, 1) (Math.random in the page, a
 * fixed sequence in tests); `jitter` is the ± fraction applied to each delay.
 * `tiers` (default RETRY_TIERS) give the delays by the fault's age.
 * Throws RangeError for a negative or fractional attempt.
 */
export function defaultReconnectPolicy(
  opts: { maxElapsedMs?: number; random?: () => number; jitter?: number; tiers?: readonly RetryTier[] } = {},
): ReconnectPolicy {
  const maxElapsedMs = opts.maxElapsedMs ?? MAX_RETRY_MS;
  const random = opts.random ?? Math.random;
  const jitter = opts.jitter ?? 0.2;
  const tiers = opts.tiers ?? RETRY_TIERS;
  return {
    nextDelayMs({ attempt, elapsedMs }) {
      if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError('attempt must be a non-negative integer');
      if (elapsedMs >= maxElapsedMs) return null;
      const delays = (tiers.find((t) => elapsedMs < t.beforeMs) ?? tiers[tiers.length - 1]!).delaysMs;
      const base = delays[Math.min(attempt, delays.length - 1)] ?? 0;
      const factor = 1 + jitter * (2 * random() - 1);
      return Math.max(0, Math.round(base * factor));
    },
  };
}

/**
 * What a refused rejoin means for the page:
 * - 'retry': a passing fault (timeout, lost connection, server error): try again later;
 * - 'readmit': a patient whose rejoin credential is no longer accepted: back to the waiting room;
 * - 'final': it cannot work (consultation ended, link expired, not allowed): stop and say why.
 */
export type FailureVerdict = 'retry' | 'readmit' | 'final';

/** Classifies a RequestError code (shared/protocol ErrorCode, or the client's own 'timeout' | 'disconnected' | 'bad-response'). */
export function classifyFailure(code: string, role: 'doctor' | 'patient'): FailureVerdict {
  switch (code) {
    case 'ended':
    case 'expired':
    case 'forbidden':
    case 'not-found':
      return 'final';
    case 'unauthenticated':
      // A doctor whose session ended must sign in again; a patient goes back to be admitted.
      return role === 'patient' ? 'readmit' : 'final';
    default:
      return 'retry';
  }
}
