// Bounds the password hashing in flight (issue 12, item 1). A scrypt hash takes
// one libuv thread (and 128 MiB) for ~0.5 s; libuv has 4 threads by default,
// shared with file reads (static files), DNS and zlib. Unbounded, 300
// concurrent logins queued 300 hashes ahead of every page load for 10 s.
// Here at most `active` hashes run at once (2: two threads stay free for the
// rest), a few more wait in a short queue, each address has at most `perKey`
// of either; past that a caller is refused at once (the API answers 429).

export interface HashGateOptions {
  /** Hashes running at once, server-wide. */
  active?: number;
  /** Callers waiting for a turn, server-wide. */
  queued?: number;
  /** Running plus waiting, per key (client address). */
  perKey?: number;
}

/** No room for this caller now (the API answers 429 `rate-limited`, Retry-After 1). */
export class HashGateFull extends Error {
  constructor() {
    super('too many password checks in progress');
  }
}

export class HashGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly perKey = new Map<string, number>();
  private readonly maxActive: number;
  private readonly maxQueued: number;
  private readonly maxPerKey: number;

  constructor(opts: HashGateOptions = {}) {
    this.maxActive = opts.active ?? 2;
    this.maxQueued = opts.queued ?? 8;
    this.maxPerKey = opts.perKey ?? 2;
  }

  /**
   * Runs `work` (which hashes) when a slot is free. Rejects with HashGateFull
   * at once, without waiting, when the queue or `key`'s share is full;
   * otherwise settles as `work` does.
   */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const mine = this.perKey.get(key) ?? 0;
    if (mine >= this.maxPerKey) throw new HashGateFull();
    if (this.running >= this.maxActive && this.waiting.length >= this.maxQueued) throw new HashGateFull();
    this.perKey.set(key, mine + 1);
    try {
      if (this.running >= this.maxActive) await new Promise<void>((resolve) => this.waiting.push(resolve));
      else this.running++;
      try {
        return await work();
      } finally {
        // Hand the slot straight to the next waiter (running stays the same), or free it.
        const next = this.waiting.shift();
        if (next) next();
        else this.running--;
      }
    } finally {
      const left = (this.perKey.get(key) ?? 1) - 1;
      if (left > 0) this.perKey.set(key, left);
      else this.perKey.delete(key);
    }
  }

  /** Hashes running and waiting now (tests, ops). */
  get load(): { running: number; waiting: number; keys: number } {
    return { running: this.running, waiting: this.waiting.length, keys: this.perKey.size };
  }
}
