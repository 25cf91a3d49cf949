// The doctor's browser remembers consultation secrets (client/call/invite-links.ts)
// only until the consultation's links expire or it ends: with a fake localStorage.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bytesToHex } from '@noble/hashes/utils.js';

class FakeStorage {
  readonly map = new Map<string, string>();
  get length(): number {
    return this.map.size;
  }
  key(i: number): string | null {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k: string): string | null {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.map.set(k, String(v));
  }
  removeItem(k: string): void {
    this.map.delete(k);
  }
}

const secret = (n: number) => new Uint8Array(32).fill(n);
let storage: FakeStorage;

/** A fresh copy of the module (its once-per-page purge starts again), over a fresh storage. */
async function load() {
  vi.resetModules();
  return (await import('../../client/call/invite-links.ts')).rememberedSecrets;
}

beforeEach(() => {
  storage = new FakeStorage();
  vi.stubGlobal('window', { localStorage: storage });
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('remembered room secrets', () => {
  it('stores the secret with its expiry, and forgets it once expired', async () => {
    const r = await load();
    r.save('c1', secret(1), 1_000_000 + 5000);
    expect(JSON.parse(storage.getItem('confide.secret.c1')!)).toEqual({ k: bytesToHex(secret(1)), exp: 1_005_000 });
    expect(r.load('c1')).toEqual(secret(1));
    vi.setSystemTime(1_005_000);
    expect(r.load('c1')).toBeUndefined();
    expect(storage.getItem('confide.secret.c1')).toBeNull();
  });

  it('without an expiry keeps the one stored for the same secret, else a day; the join answer sets it', async () => {
    const { REMEMBER_FALLBACK_MS } = await import('../../client/call/invite-links.ts');
    const r = await load();
    r.save('c1', secret(1));
    expect(JSON.parse(storage.getItem('confide.secret.c1')!).exp).toBe(1_000_000 + REMEMBER_FALLBACK_MS);
    r.expireAt('c1', 9_000_000);
    r.save('c1', secret(1)); // the doctor link opened again
    expect(JSON.parse(storage.getItem('confide.secret.c1')!).exp).toBe(9_000_000);
    r.save('c1', secret(2)); // another secret: its own expiry
    expect(JSON.parse(storage.getItem('confide.secret.c1')!).exp).toBe(1_000_000 + REMEMBER_FALLBACK_MS);
    r.expireAt('nothing-here', 5); // no entry: nothing stored
    expect(storage.getItem('confide.secret.nothing-here')).toBeNull();
  });

  it('forgets a consultation that ended', async () => {
    const r = await load();
    r.save('c1', secret(1), 9_000_000);
    r.save('c2', secret(2), 9_000_000);
    r.forget('c1');
    expect(r.load('c1')).toBeUndefined();
    expect(r.load('c2')).toEqual(secret(2));
  });

  it('purges every expired or unreadable secret on first use, and gives an old bare entry an expiry', async () => {
    storage.setItem('confide.secret.old', bytesToHex(secret(3))); // stored before expiries
    storage.setItem('confide.secret.gone', JSON.stringify({ k: bytesToHex(secret(4)), exp: 999_999 }));
    storage.setItem('confide.secret.junk', '{not json');
    storage.setItem('confide.secret.bad', JSON.stringify({ k: 'zz', exp: 9_999_999 }));
    storage.setItem('confide.other', 'kept');
    const r = await load();
    expect(r.load('anything')).toBeUndefined();
    expect([...storage.map.keys()].sort()).toEqual(['confide.other', 'confide.secret.old']);
    expect(r.load('old')).toEqual(secret(3));
    expect(JSON.parse(storage.getItem('confide.secret.old')!).exp).toBeGreaterThan(1_000_000);
  });

  it('never throws when storage fails', async () => {
    vi.stubGlobal('window', {
      localStorage: {
        getItem() {
          throw new Error('denied');
        },
        setItem() {
          throw new Error('denied');
        },
        removeItem() {
          throw new Error('denied');
        },
        key: () => null,
        length: 0,
      },
    });
    const r = await load();
    expect(() => r.save('c1', secret(1), 5)).not.toThrow();
    expect(r.load('c1')).toBeUndefined();
    expect(() => r.expireAt('c1', 5)).not.toThrow();
    expect(() => r.forget('c1')).not.toThrow();
  });
});
