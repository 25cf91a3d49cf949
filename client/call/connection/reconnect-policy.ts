/**
 * When to try again after a connection fault, and when to stop. Pure: the
 * clock and the randomness come in, so tests can tabulate it.
 *
 * Delays follow LiveKit's idea (a short table that grows fast, then a cap)
 * but cap lower, at 2 s: a restarted server must have two-way media back
 * within 5 s of answering again and a short drop within 2 s of its end, so
 * no client may sleep long between tries. A try is one WebSocket handshake,
 * cheap for the server; the jitter spreads a clinic's clients. Jitter (±20 %) spreads a whole clinic's clients after
 * a server restart. The policy gives up after `maxElapsedMs` of trying,
 * and the page then says "could not reconnect" with a Rejoin button.
 * @module
 */

/** Delay before each attempt (ms); the last value repeats. Attempt 0 is immediate. */
export const RETRY_DELAYS_MS: readonly number[] = [0, 250, 500, 1000, 1000, 1500, 2000];
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
 */
export function defaultReconnectPolicy(
  opts: { maxElapsedMs?: number; random?: () => number; jitter?: number; delays?: readonly number[] } = {},
): ReconnectPolicy {
  const maxElapsedMs = opts.maxElapsedMs ?? MAX_RETRY_MS;
  const random = opts.random ?? Math.random;
  const jitter = opts.jitter ?? 0.2;
  const delays = opts.delays ?? RETRY_DELAYS_MS;
  return {
    nextDelayMs({ attempt, elapsedMs }) {
      if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError('attempt must be a non-negative integer');
      if (elapsedMs >= maxElapsedMs) return null;
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
