// Slows down password guessing: after 5 failed logins for one (ip, email)
// within 15 minutes, or 20 from one ip, that key is refused for 15 minutes.
//
// An attempt counts from the moment it starts (issue 12, item 1): the check
// and the count are one synchronous step before the password is hashed, and
// attempts still being hashed count against the limit. Checking first and
// counting after the hash (an `await` later) let 60 concurrent guesses all
// pass the check.
//
// In memory only, and bounded: old entries are pruned, and past `maxEntries`
// the least recently touched idle ones are dropped.

export interface LoginThrottleOptions {
  maxPerPair?: number;
  maxPerIp?: number;
  windowMs?: number;
  lockMs?: number;
  /** Upper bound on tracked keys per kind (pairs, ips). */
  maxEntries?: number;
  now?: () => number;
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSec: number };

/** One attempt let through by LoginThrottle.begin: report its outcome exactly once. */
export interface LoginAttempt {
  /** The password was right: the pair's failures are forgiven. */
  succeeded(): void;
  /** The password was wrong (or the account unknown or disabled): counts as a failure. */
  failed(): void;
  /** The attempt never checked a password (refused for load): it counts for nothing. */
  cancel(): void;
}

interface Entry {
  /** Failure times within the window, oldest first (at most the limit). */
  failures: number[];
  /** Attempts under way (password being hashed). */
  pending: number;
  lockedUntil: number;
}

class Counter {
  private readonly entries = new Map<string, Entry>();
  private sincePrune = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly lockMs: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** 0 when `key` may start an attempt now, else until when (ms) it may not. */
  blockedUntil(key: string, now: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    if (e.lockedUntil > now) return e.lockedUntil;
    const recent = e.failures.filter((t) => t > now - this.windowMs);
    if (recent.length + e.pending < this.limit) return 0;
    // Full of attempts under way or recent failures: free again when the oldest failure ages out (or in 1 s).
    return recent.length > 0 ? recent[0]! + this.windowMs : now + 1000;
  }

  begin(key: string, now: number): void {
    const e = this.touch(key);
    e.pending++;
    this.bound(now);
  }

  end(key: string, failed: boolean, now: number): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.pending = Math.max(0, e.pending - 1);
    if (!failed) return;
    e.failures = e.failures.filter((t) => t > now - this.windowMs);
    e.failures.push(now);
    if (e.failures.length > this.limit) e.failures.splice(0, e.failures.length - this.limit);
    if (e.failures.length >= this.limit) {
      e.lockedUntil = now + this.lockMs;
      e.failures = [];
    }
  }

  reset(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (e.pending > 0) {
      e.failures = [];
      e.lockedUntil = 0;
    } else {
      this.entries.delete(key);
    }
  }

  /** The entry for `key`, moved to the end (Map order = least recently touched first). */
  private touch(key: string): Entry {
    const e = this.entries.get(key) ?? { failures: [], pending: 0, lockedUntil: 0 };
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  private bound(now: number): void {
    const idle = (e: Entry) => e.pending === 0 && e.lockedUntil <= now && e.failures.every((t) => t <= now - this.windowMs);
    if (++this.sincePrune >= 1000 || this.entries.size > this.maxEntries) {
      this.sincePrune = 0;
      for (const [key, e] of this.entries) if (idle(e)) this.entries.delete(key);
    }
    // Still too many: forget the least recently touched that have nothing under way.
    for (const [key, e] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      if (e.pending === 0) this.entries.delete(key);
    }
  }
}

export class LoginThrottle {
  private readonly pairs: Counter;
  private readonly ips: Counter;
  private readonly now: () => number;

  constructor(opts: LoginThrottleOptions = {}) {
    const windowMs = opts.windowMs ?? 15 * 60 * 1000;
    const lockMs = opts.lockMs ?? 15 * 60 * 1000;
    const maxEntries = opts.maxEntries ?? 10_000;
    this.pairs = new Counter(opts.maxPerPair ?? 5, windowMs, lockMs, maxEntries);
    this.ips = new Counter(opts.maxPerIp ?? 20, windowMs, lockMs, maxEntries);
    this.now = opts.now ?? Date.now;
  }

  /**
   * Starts a login attempt for (ip, email), counted at once against both
   * limits (recent failures plus attempts under way). Refused when either is
   * full or locked; otherwise returns the attempt, whose outcome must be
   * reported once (succeeded, failed or cancel).
   */
  begin(ip: string, email: string): (ThrottleVerdict & { allowed: false }) | { allowed: true; attempt: LoginAttempt } {
    const now = this.now();
    const pair = pairKey(ip, email);
    const until = Math.max(this.pairs.blockedUntil(pair, now), this.ips.blockedUntil(ip, now));
    if (until > 0) return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((until - now) / 1000)) };
    this.pairs.begin(pair, now);
    this.ips.begin(ip, now);
    let done = false;
    const end = (outcome: 'succeeded' | 'failed' | 'cancel') => {
      if (done) return;
      done = true;
      const t = this.now();
      this.pairs.end(pair, outcome === 'failed', t);
      this.ips.end(ip, outcome === 'failed', t);
      // A right password clears that (ip, email)'s failures (not the ip's).
      if (outcome === 'succeeded') this.pairs.reset(pair);
    };
    return {
      allowed: true,
      attempt: { succeeded: () => end('succeeded'), failed: () => end('failed'), cancel: () => end('cancel') },
    };
  }

  /** Tracked keys (for tests). */
  get size(): { pairs: number; ips: number } {
    return { pairs: this.pairs.size, ips: this.ips.size };
  }
}

function pairKey(ip: string, email: string): string {
  return `${ip}\u0000${email.trim().toLowerCase().slice(0, 320)}`;
}
