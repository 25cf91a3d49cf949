// Request budgets shared by several connections (issue 12, item 12): one
// staff account, one consultation's patients, or one address before either.
// A per-connection budget alone let one account open 16 sockets and spend 16
// budgets. Buckets are created on demand and forgotten when full again and
// idle, so the map stays small.
import { TokenBucket } from '../../shared/util/token-bucket.ts';

export class SharedBudgets {
  private readonly buckets = new Map<string, { bucket: TokenBucket; lastUsed: number }>();
  private sinceSweep = 0;

  /** `burst` requests at once, then `perSecond`, per key; at most `maxKeys` kept. */
  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly maxKeys = 50_000,
  ) {}

  /** Takes one request from `key`'s budget; false when it is spent. */
  take(key: string, now = Date.now()): boolean {
    let entry = this.buckets.get(key);
    if (!entry) {
      entry = { bucket: new TokenBucket(this.burst, this.perSecond), lastUsed: now };
      this.buckets.set(key, entry);
    }
    entry.lastUsed = now;
    if (++this.sinceSweep >= 1000 || this.buckets.size > this.maxKeys) this.sweep(now);
    return entry.bucket.take();
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Forgets buckets unused long enough to have refilled completely. */
  private sweep(now: number): void {
    this.sinceSweep = 0;
    const refillMs = (this.burst / this.perSecond) * 1000;
    for (const [key, e] of this.buckets) if (now - e.lastUsed > refillMs) this.buckets.delete(key);
    // Still too many (a flood of distinct keys): drop the oldest.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
