/**
 * Tells the server how many media frames this page could not authenticate
 * or decrypt (a count only: no peer, no key id, no content), so operations
 * see E2EE trouble in the metrics. Every `everyMs` (default 15 000 ms) it
 * reads the frame Worker's counters and sends the increase, if any, as
 * `reportDecryptFailures`. A Worker that restarted (a full rejoin) starts
 * from zero again. Sending failures are ignored: the count is best effort.
 * @module
 */
import type { E2eeStats } from './worker-messages.ts';
import { MAX_DECRYPT_FAILURES_PER_REPORT } from '../../shared/protocol/signalling.ts';

/** Frames dropped for failing authentication, being malformed, replayed, or keyed by someone else. (Missing keys are normal at a key change: not counted.) */
export function decryptFailures(stats: E2eeStats): number {
  let n = 0;
  for (const r of Object.values(stats.receivers)) n += r.failedAuth + r.malformed + r.replayed + r.wrongSender;
  return n;
}

export class DecryptFailureReporter {
  private last = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly stats: () => Promise<E2eeStats>,
    private readonly send: (failures: number) => Promise<unknown>,
    private readonly everyMs = 15_000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One reading: sends the increase since the last one (clamped to the protocol's maximum). */
  async tick(): Promise<void> {
    const total = decryptFailures(await this.stats());
    if (total < this.last) this.last = 0; // a new Worker: its counters restarted
    const delta = Math.min(total - this.last, MAX_DECRYPT_FAILURES_PER_REPORT);
    if (delta <= 0) return;
    this.last += delta;
    await this.send(delta).catch(() => undefined);
  }
}
