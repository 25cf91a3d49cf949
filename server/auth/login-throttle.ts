// Slows down password guessing: after 5 failed logins for one (ip, email)
// within 15 minutes, or 20 from one ip, that key is refused for 15 minutes.
// In memory only, and bounded: old entries are pruned, and past `maxEntries`
// the least recently touched are dropped.

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

interface Entry {
  /** Failure times within the window, oldest first (at most the limit). */
  failures: number[];
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

  lockedUntil(key: string, now: number): number {
    const e = this.entries.get(key);
    return e && e.lockedUntil > now ? e.lockedUntil : 0;
  }

  fail(key: string, now: number): void {
    const e = this.entries.get(key) ?? { failures: [], lockedUntil: 0 };
    this.entries.delete(key); // re-inserted below: Map order = least recently touched first
    e.failures = e.failures.filter((t) => t > now - this.windowMs);
    e.failures.push(now);
    if (e.failures.length > this.limit) e.failures.splice(0, e.failures.length - this.limit);
    if (e.failures.length >= this.limit) {
      e.lockedUntil = now + this.lockMs;
      e.failures = [];
    }
    this.entries.set(key, e);
    this.bound(now);
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  private bound(now: number): void {
    if (++this.sincePrune >= 1000 || this.entries.size > this.maxEntries) {
      this.sincePrune = 0;
      for (const [key, e] of this.entries) {
        if (e.lockedUntil <= now && e.failures.every((t) => t <= now - this.windowMs)) this.entries.delete(key);
      }
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
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

  /** May this (ip, email) try a password now? */
  check(ip: string, email: string): ThrottleVerdict {
    const now = this.now();
    const until = Math.max(this.pairs.lockedUntil(pairKey(ip, email), now), this.ips.lockedUntil(ip, now));
    if (until === 0) return { allowed: true };
    return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((until - now) / 1000)) };
  }

  failed(ip: string, email: string): void {
    const now = this.now();
    this.pairs.fail(pairKey(ip, email), now);
    this.ips.fail(ip, now);
  }

  /** A successful login clears that (ip, email)'s failures (not the ip's). */
  succeeded(ip: string, email: string): void {
    this.pairs.reset(pairKey(ip, email));
  }

  /** Tracked keys (for tests). */
  get size(): { pairs: number; ips: number } {
    return { pairs: this.pairs.size, ips: this.ips.size };
  }
}

function pairKey(ip: string, email: string): string {
  return `${ip}\u0000${email.trim().toLowerCase().slice(0, 320)}`;
}
