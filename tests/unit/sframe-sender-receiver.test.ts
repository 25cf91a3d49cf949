import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as hkdf from '@noble/hashes/hkdf.js';
import {
  AES_128_GCM_SHA256_128,
  AES_256_GCM_SHA512_128,
  SFrameError,
  decodeHeader,
  decrypt,
  deriveKeyAndSalt,
  encrypt,
} from '../../shared/crypto/sframe.ts';
import type { SFrameKey } from '../../shared/crypto/sframe.ts';
import { SFrameSender } from '../../shared/crypto/sframe-sender.ts';
import { REPLAY_WINDOW, ReplayWindow, SFrameReceiver } from '../../shared/crypto/sframe-receiver.ts';
import { defaultAesGcm, nobleAesGcm, webCryptoAesGcm } from '../../shared/crypto/aead.ts';
import type { AesGcmBackend, AesGcmKey } from '../../shared/crypto/aead.ts';
import { errorCode, rejection } from '../support/sframe-errors.ts';

// Pass-through spies, so the tests can count real HKDF work and capture the
// derived key objects the sender/receiver keep (to check they get zeroed).
vi.mock(import('@noble/hashes/hkdf.js'), async (importOriginal) => {
  const mod = await importOriginal();
  return { ...mod, extract: vi.fn(mod.extract), expand: vi.fn(mod.expand) };
});
vi.mock(import('../../shared/crypto/sframe.ts'), async (importOriginal) => {
  const mod = await importOriginal();
  return { ...mod, deriveKeyAndSalt: vi.fn(mod.deriveKeyAndSalt) };
});

const derive = vi.mocked(deriveKeyAndSalt);
const extract = vi.mocked(hkdf.extract);
const expand = vi.mocked(hkdf.expand);

const h = hexToBytes;
const hex = bytesToHex;
const U64_MAX = 2n ** 64n - 1n;
const S = AES_128_GCM_SHA256_128;
const KEY_A = h('000102030405060708090a0b0c0d0e0f');
const KEY_B = h('f0e0d0c0b0a090807060504030201000');
const KEY_C = h('00112233445566778899aabbccddeeff');
const META = h('4945544620534672616d65205747');
const PT = h('64726166742d696574662d736672616d652d656e63');

const BACKENDS: AesGcmBackend[] = [webCryptoAesGcm, nobleAesGcm];



function isZero(k: SFrameKey): boolean {
  return k.key.every((b) => b === 0) && k.salt.every((b) => b === 0);
}

/** Derived keys returned by deriveKeyAndSalt since the last clear, in call order. */
function derivedKeys(): SFrameKey[] {
  return derive.mock.results.flatMap((r) => (r.type === 'return' ? [r.value] : []));
}

/**
 * Wraps a backend to count its calls and, on demand, hold importKey()/open()
 * until the test releases them (in any order), to force interleavings.
 */
function instrument(inner: AesGcmBackend, hold: { imports?: boolean; opens?: boolean } = {}) {
  const stats = { imports: 0, seals: 0, opens: 0, destroyed: 0 };
  const heldImports: (() => void)[] = [];
  const heldOpens: (() => void)[] = [];
  let failNextImport = false;
  const backend: AesGcmBackend = {
    name: `${inner.name}+instrumented`,
    async importKey(raw) {
      stats.imports++;
      if (failNextImport) {
        failNextImport = false;
        throw new Error('import failed (test)');
      }
      const pending = inner.importKey(raw);
      if (hold.imports) await new Promise<void>((r) => heldImports.push(r));
      const k: AesGcmKey = await pending;
      return {
        seal: (n, a, pt) => {
          stats.seals++;
          return k.seal(n, a, pt);
        },
        open: async (n, a, ct) => {
          stats.opens++;
          const out = k.open(n, a, ct);
          out.catch(() => undefined); // settled later; don't flag it as unhandled meanwhile
          if (hold.opens) await new Promise<void>((r) => heldOpens.push(r));
          return out;
        },
        destroy: () => {
          stats.destroyed++;
          k.destroy?.();
        },
      };
    },
  };
  return {
    backend,
    stats,
    heldImports,
    heldOpens,
    failNextImport: () => void (failNextImport = true),
  };
}

/** Lets queued promise callbacks and backend work (WebCrypto runs off-thread) finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 1));
}

/** Releases the i-th held call, then lets it finish. */
async function release(held: (() => void)[], i: number): Promise<void> {
  await vi.waitFor(() => expect(held[i]).toBeDefined());
  held[i]!();
  await settle();
}

beforeEach(() => {
  derive.mockClear();
  extract.mockClear();
  expand.mockClear();
});

describe('backend selection', () => {
  it('defaults to WebCrypto where globalThis.crypto.subtle exists (Node 20, browsers, Workers)', () => {
    expect(defaultAesGcm()).toBe(webCryptoAesGcm);
    expect(new SFrameSender(S).backend).toBe(webCryptoAesGcm);
    expect(new SFrameReceiver(S).backend).toBe(webCryptoAesGcm);
  });

  it('falls back to noble without crypto.subtle', () => {
    vi.stubGlobal('crypto', undefined);
    try {
      expect(defaultAesGcm()).toBe(nobleAesGcm);
      expect(new SFrameSender(S).backend).toBe(nobleAesGcm);
      expect(new SFrameReceiver(S).backend).toBe(nobleAesGcm);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(defaultAesGcm()).toBe(webCryptoAesGcm);
  });

  it('interoperates across backends in both directions', async () => {
    for (const [tx, rx] of [
      [webCryptoAesGcm, nobleAesGcm],
      [nobleAesGcm, webCryptoAesGcm],
    ] as const) {
      const s = new SFrameSender(S, tx);
      const r = new SFrameReceiver(S, rx);
      await s.setKey(4n, KEY_A);
      await r.addKey(4n, KEY_A);
      for (let i = 0n; i < 3n; i++) {
        expect(await r.decrypt(META, await s.encrypt(META, PT))).toMatchObject({ kid: 4n, ctr: i });
      }
    }
  });
});

describe.each(BACKENDS)('backend $name', (backend) => {
  /** n frames from a fresh sender (CTR 0..n-1) under `kid`. */
  async function frames(kid: bigint, n: number, baseKey = KEY_A, suite = S): Promise<Uint8Array[]> {
    const s = new SFrameSender(suite, backend);
    await s.setKey(kid, baseKey);
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) out.push(await s.encrypt(META, Uint8Array.of(i & 0xff, 1, 2, 3)));
    return out;
  }

  async function receiver(kid = 1n, baseKey = KEY_A, suite = S): Promise<SFrameReceiver> {
    const r = new SFrameReceiver(suite, backend);
    await r.addKey(kid, baseKey);
    return r;
  }

  describe('SFrameSender', () => {
    it('fails closed without a key', async () => {
      const s = new SFrameSender(S, backend);
      expect(s.backend).toBe(backend);
      expect(s.hasKey).toBe(false);
      expect(s.kid).toBeUndefined();
      expect(await rejection(s.encrypt(META, PT))).toBe('no-key');
      await s.setKey(3n, KEY_A);
      expect(s.hasKey).toBe(true);
      s.clearKey();
      expect(s.hasKey).toBe(false);
      expect(await rejection(s.encrypt(META, PT))).toBe('no-key');
    });

    it.each([AES_128_GCM_SHA256_128, AES_256_GCM_SHA512_128])(
      'suite %i: counts CTR 0,1,2… and matches the stateless RFC encrypt byte for byte',
      async (suite) => {
        const s = new SFrameSender(suite, backend);
        await s.setKey(0x123n, KEY_A);
        expect(s.kid).toBe(0x123n);
        for (let i = 0n; i < 20n; i++) {
          const f = await s.encrypt(META, PT);
          expect(decodeHeader(f).ctr).toBe(i);
          expect(hex(f)).toBe(hex(encrypt(suite, KEY_A, 0x123n, i, META, PT)));
          expect(hex(decrypt(suite, KEY_A, META, f).plaintext)).toBe(hex(PT));
        }
        expect(s.nextCounter).toBe(20n);
      }
    );

    it('starts each new key at CTR 0 (or startCounter)', async () => {
      const s = new SFrameSender(S, backend);
      await s.setKey(1n, KEY_A);
      await s.encrypt(META, PT);
      await s.encrypt(META, PT);
      await s.setKey(2n, KEY_B);
      expect(decodeHeader(await s.encrypt(META, PT))).toMatchObject({ kid: 2n, ctr: 0n });
      await s.setKey(3n, KEY_A, { startCounter: 108_000n });
      expect(decodeHeader(await s.encrypt(META, PT))).toMatchObject({ kid: 3n, ctr: 108_000n });
    });

    it('throws once the counter would pass 2^64-1, and keeps throwing (no wrap)', async () => {
      const s = new SFrameSender(S, backend);
      await s.setKey(1n, KEY_A, { startCounter: U64_MAX - 1n });
      expect(decodeHeader(await s.encrypt(META, PT)).ctr).toBe(U64_MAX - 1n);
      const last = await s.encrypt(META, PT);
      expect(decodeHeader(last).ctr).toBe(U64_MAX);
      expect(hex(decrypt(S, KEY_A, META, last).plaintext)).toBe(hex(PT));
      expect(await rejection(s.encrypt(META, PT))).toBe('counter-exhausted');
      expect(await rejection(s.encrypt(META, PT))).toBe('counter-exhausted');
    });

    it('rejects out-of-range KID and startCounter', async () => {
      const s = new SFrameSender(S, backend);
      expect(await rejection(s.setKey(-1n, KEY_A))).toBe('invalid-argument');
      expect(await rejection(s.setKey(2n ** 64n, KEY_A))).toBe('invalid-argument');
      expect(await rejection(s.setKey(1n, KEY_A, { startCounter: 2n ** 64n }))).toBe('invalid-argument');
      expect(await rejection(s.setKey(1n, KEY_A, { startCounter: -1n }))).toBe('invalid-argument');
      expect(s.hasKey).toBe(false);
    });

    it('never rewinds a (key, KID) counter: same KID+key is a no-op, a retired pair throws', async () => {
      const s = new SFrameSender(S, backend);
      await s.setKey(1n, KEY_A);
      await s.encrypt(META, PT); // CTR 0
      await s.setKey(1n, KEY_A); // duplicate delivery: counter continues
      expect(decodeHeader(await s.encrypt(META, PT)).ctr).toBe(1n);
      await s.setKey(2n, KEY_B);
      expect(await rejection(s.setKey(1n, KEY_A))).toBe('kid-reuse'); // retired (KID, key)
      expect(s.kid).toBe(2n); // failed setKey leaves the current key in place
      expect(decodeHeader(await s.encrypt(META, PT)).ctr).toBe(0n);
    });

    it('lets a KID value come back with a new key (wrapping KIDs), counter from 0', async () => {
      const s = new SFrameSender(S, backend);
      await s.setKey(1n, KEY_A);
      const underA = await s.encrypt(META, PT);
      await s.setKey(2n, KEY_B);
      await s.setKey(1n, KEY_C);
      const underC = await s.encrypt(META, PT);
      expect(decodeHeader(underC).ctr).toBe(0n);
      // Same (KID, CTR) but another key: not the same ciphertext, and only KEY_C opens it.
      expect(underC).not.toEqual(underA);
      const r = new SFrameReceiver(S, backend);
      await r.addKey(1n, KEY_C);
      expect(await rejection(r.decrypt(META, underA))).toBe('auth');
      expect((await r.decrypt(META, underC)).plaintext).toEqual(PT);
      expect(await rejection(s.setKey(1n, KEY_A))).toBe('kid-reuse');
    });

    it('wipes the previous derived key on rotation and on clearKey', async () => {
      const t = instrument(backend);
      const s = new SFrameSender(S, t.backend);
      await s.setKey(1n, KEY_A);
      const [k1] = derivedKeys();
      // Raw AEAD key bytes are zeroed as soon as they are imported; the salt stays.
      expect(k1!.key.every((b) => b === 0)).toBe(true);
      expect(k1!.salt.some((b) => b !== 0)).toBe(true);
      await s.setKey(2n, KEY_B);
      const [, k2] = derivedKeys();
      expect(k1 && k2).toBeTruthy();
      expect(isZero(k1!)).toBe(true);
      expect(isZero(k2!)).toBe(false);
      expect(t.stats.destroyed).toBe(1); // the backend key of KID 1
      s.clearKey();
      expect(isZero(k2!)).toBe(true);
      expect(t.stats.destroyed).toBe(2);
    });

    it('rejects unsupported suites at construction', () => {
      expect(errorCode(() => new SFrameSender(1, backend))).toBe('unsupported-suite');
      expect(errorCode(() => new SFrameReceiver(1, backend))).toBe('unsupported-suite');
    });
  });

  describe('SFrameSender concurrency', () => {
    it('concurrent encrypts take distinct CTRs (taken before the first await)', async () => {
      const s = new SFrameSender(S, backend);
      await s.setKey(1n, KEY_A);
      const two = await Promise.all([s.encrypt(META, PT), s.encrypt(META, PT)]);
      expect(two.map((f) => decodeHeader(f).ctr)).toEqual([0n, 1n]);
      const many = await Promise.all(Array.from({ length: 32 }, () => s.encrypt(META, PT)));
      expect(many.map((f) => decodeHeader(f).ctr)).toEqual(Array.from({ length: 32 }, (_, i) => BigInt(i + 2)));
      for (const f of [...two, ...many]) expect(hex(decrypt(S, KEY_A, META, f).plaintext)).toBe(hex(PT));
      expect(s.nextCounter).toBe(34n);
    });

    it('keeps encrypting with the previous key while setKey() imports', async () => {
      const t = instrument(backend, { imports: true });
      const s = new SFrameSender(S, t.backend);
      const first = s.setKey(1n, KEY_A);
      expect(await rejection(s.encrypt(META, PT))).toBe('no-key'); // nothing installed yet
      await release(t.heldImports, 0);
      await first;
      const rotating = s.setKey(2n, KEY_B);
      await settle();
      expect(s.kid).toBe(1n);
      expect(decodeHeader(await s.encrypt(META, PT))).toMatchObject({ kid: 1n, ctr: 0n });
      await release(t.heldImports, 1);
      await rotating;
      expect(s.kid).toBe(2n);
      expect(decodeHeader(await s.encrypt(META, PT))).toMatchObject({ kid: 2n, ctr: 0n });
    });

    it('racing setKey(): the last one requested wins whatever the import order; no (KID, CTR) repeats', async () => {
      for (const order of [
        [1, 0],
        [0, 1],
      ]) {
        const t = instrument(backend, { imports: true });
        const s = new SFrameSender(S, t.backend);
        const seen = new Set<string>();
        const note = (f: Uint8Array) => {
          const { kid, ctr } = decodeHeader(f);
          expect(seen.has(`${kid}/${ctr}`)).toBe(false);
          seen.add(`${kid}/${ctr}`);
        };
        const p1 = s.setKey(1n, KEY_A);
        const p2 = s.setKey(2n, KEY_B);
        // Both are in flight: same-key duplicates of the latest request are no-ops,
        // a superseded (KID, key) pair is reuse.
        expect(await rejection(s.setKey(1n, KEY_A))).toBe('kid-reuse'); // superseded by KID 2
        const dup = s.setKey(2n, KEY_B);
        for (const i of order) {
          await release(t.heldImports, i!);
          if (s.hasKey) note(await s.encrypt(META, PT));
        }
        await Promise.all([p1, p2, dup]);
        expect(t.stats.imports).toBe(2); // the duplicate did not import again
        expect(s.kid).toBe(2n);
        for (let i = 0; i < 3; i++) note(await s.encrypt(META, PT));
        expect(await rejection(s.setKey(1n, KEY_A))).toBe('kid-reuse');
        // KID 1's backend key was destroyed either way: dropped when its import
        // finished after KID 2's, or replaced when it finished first.
        expect(t.stats.destroyed).toBe(1);
        expect(s.kid).toBe(2n);
      }
    });

    it('clearKey() cancels a setKey() still importing', async () => {
      const t = instrument(backend, { imports: true });
      const s = new SFrameSender(S, t.backend);
      const p = s.setKey(1n, KEY_A);
      s.clearKey();
      await release(t.heldImports, 0);
      await p;
      expect(s.hasKey).toBe(false);
      expect(t.stats.destroyed).toBe(1);
      expect(await rejection(s.encrypt(META, PT))).toBe('no-key');
      expect(await rejection(s.setKey(1n, KEY_A))).toBe('kid-reuse');
    });

    it('a failed import leaves the current key in place and frees its KID', async () => {
      const t = instrument(backend);
      const s = new SFrameSender(S, t.backend);
      await s.setKey(1n, KEY_A);
      await s.encrypt(META, PT);
      t.failNextImport();
      await expect(s.setKey(2n, KEY_B)).rejects.toThrow('import failed (test)');
      const [, k2] = derivedKeys();
      expect(isZero(k2!)).toBe(true);
      expect(s.kid).toBe(1n);
      await s.setKey(1n, KEY_A); // KID 1 is current again: duplicate is a no-op
      expect(decodeHeader(await s.encrypt(META, PT))).toMatchObject({ kid: 1n, ctr: 1n });
      await s.setKey(2n, KEY_B); // KID 2 never encrypted anything: usable
      expect(decodeHeader(await s.encrypt(META, PT))).toMatchObject({ kid: 2n, ctr: 0n });
    });
  });

  describe('key cache: HKDF and importKey once per KID, never per frame', () => {
    it('sender and receiver derive once, then 200 frames run no HKDF', async () => {
      const t = instrument(backend);
      const s = new SFrameSender(S, t.backend);
      const r = new SFrameReceiver(S, t.backend);
      await s.setKey(7n, KEY_A);
      await r.addKey(7n, KEY_A);
      expect(derive).toHaveBeenCalledTimes(2);
      expect(extract).toHaveBeenCalledTimes(2);
      expect(expand).toHaveBeenCalledTimes(4); // key + salt, twice
      expect(t.stats.imports).toBe(2);
      for (let i = 0; i < 200; i++) {
        const out = await r.decrypt(META, await s.encrypt(META, PT));
        expect(out.ctr).toBe(BigInt(i));
      }
      expect(derive).toHaveBeenCalledTimes(2);
      expect(extract).toHaveBeenCalledTimes(2);
      expect(expand).toHaveBeenCalledTimes(4);
      expect(t.stats).toEqual({ imports: 2, seals: 200, opens: 200, destroyed: 0 });
    });
  });

  describe('SFrameReceiver', () => {
    it('decrypts frames of several KIDs with independent windows', async () => {
      const r = await receiver(1n, KEY_A);
      await r.addKey(2n, KEY_B);
      const a = await frames(1n, 3, KEY_A);
      const b = await frames(2n, 3, KEY_B);
      for (let i = 0; i < 3; i++) {
        expect(await r.decrypt(META, a[i]!)).toMatchObject({ kid: 1n, ctr: BigInt(i) });
        expect(await r.decrypt(META, b[i]!)).toMatchObject({ kid: 2n, ctr: BigInt(i) });
      }
      expect(await rejection(r.decrypt(META, a[0]!))).toBe('replay');
      expect(await rejection(r.decrypt(META, b[2]!))).toBe('replay');
    });

    it("unknown KID → 'unknown-kid'", async () => {
      const r = await receiver(1n);
      expect(await rejection(r.decrypt(META, (await frames(2n, 1))[0]!))).toBe('unknown-kid');
    });

    it("malformed input → 'malformed' (empty, truncated header, no room for the tag)", async () => {
      const r = await receiver(0x123n);
      const f = (await frames(0x123n, 1))[0]!;
      expect(await rejection(r.decrypt(META, new Uint8Array(0)))).toBe('malformed');
      expect(await rejection(r.decrypt(META, f.subarray(0, 2)))).toBe('malformed'); // header cut
      expect(await rejection(r.decrypt(META, f.subarray(0, 3 + 15)))).toBe('malformed'); // header + 15 B
    });

    it("tampering and wrong keys → 'auth'", async () => {
      const f = (await frames(1n, 1))[0]!;
      const tampered = f.slice();
      tampered[tampered.length - 1]! ^= 0x80; // tag
      expect(await rejection((await receiver()).decrypt(META, tampered))).toBe('auth');
      const body = f.slice();
      body[2]! ^= 1;
      expect(await rejection((await receiver()).decrypt(META, body))).toBe('auth');
      expect(await rejection((await receiver()).decrypt(h('00'), f))).toBe('auth');
      expect(await rejection((await receiver(1n, KEY_B)).decrypt(META, f))).toBe('auth');
      expect(await rejection((await receiver(1n, KEY_A, AES_256_GCM_SHA512_128)).decrypt(META, f))).toBe('auth');
      expect((await (await receiver()).decrypt(META, f)).ctr).toBe(0n); // the untouched frame is fine
    });

    it("replayed CTR → 'replay'", async () => {
      const r = await receiver();
      const [f0, f1] = await frames(1n, 2);
      await r.decrypt(META, f0!);
      expect(await rejection(r.decrypt(META, f0!))).toBe('replay');
      await r.decrypt(META, f1!);
      expect(await rejection(r.decrypt(META, f1!))).toBe('replay');
      expect(await rejection(r.decrypt(META, f0!))).toBe('replay');
    });

    it('rejects replays before any AES work (window checked before decrypting)', async () => {
      const t = instrument(backend);
      const r = new SFrameReceiver(S, t.backend);
      await r.addKey(1n, KEY_A);
      const f = await frames(1n, REPLAY_WINDOW + 2);
      await r.decrypt(META, f[0]!);
      await r.decrypt(META, f[REPLAY_WINDOW + 1]!);
      expect(t.stats.opens).toBe(2);
      expect(await rejection(r.decrypt(META, f[0]!))).toBe('replay'); // too old
      expect(await rejection(r.decrypt(META, f[REPLAY_WINDOW + 1]!))).toBe('replay'); // seen
      expect(t.stats.opens).toBe(2);
    });

    it('accepts out-of-order frames inside the window exactly once', async () => {
      const r = await receiver();
      const f = await frames(1n, 10);
      for (const i of [5, 3, 9, 0, 4, 8]) expect((await r.decrypt(META, f[i]!)).ctr).toBe(BigInt(i));
      for (const i of [5, 3, 9, 0, 4, 8]) expect(await rejection(r.decrypt(META, f[i]!))).toBe('replay');
      for (const i of [1, 2, 6, 7]) expect((await r.decrypt(META, f[i]!)).ctr).toBe(BigInt(i));
    });

    it(`rejects CTRs older than the window (${REPLAY_WINDOW}) even if never seen`, async () => {
      const W = REPLAY_WINDOW;
      const r = await receiver();
      const f = await frames(1n, W + 11);
      await r.decrypt(META, f[W + 10]!); // top = W+10
      expect(await rejection(r.decrypt(META, f[10]!))).toBe('replay'); // top - W: just outside
      expect(await rejection(r.decrypt(META, f[0]!))).toBe('replay');
      expect((await r.decrypt(META, f[11]!)).ctr).toBe(11n); // top - W + 1: oldest still inside
      expect(await rejection(r.decrypt(META, f[11]!))).toBe('replay');
    });

    it('forged frames do not poison the window', async () => {
      const r = await receiver();
      const f = await frames(1n, 8);
      await r.decrypt(META, f[0]!);
      // Forgery 1: valid header for CTR 7, garbage tag. Must not mark 7 as seen.
      const forged7 = f[7]!.slice();
      forged7[forged7.length - 1]! ^= 1;
      expect(await rejection(r.decrypt(META, forged7))).toBe('auth');
      expect((await r.decrypt(META, f[7]!)).ctr).toBe(7n);
      // Forgery 2: a huge CTR under the right KID. Must not slide the window past 1..6.
      const s = new SFrameSender(S, backend);
      await s.setKey(1n, KEY_B, { startCounter: 2n ** 40n }); // wrong key → fails auth at the receiver
      expect(await rejection(r.decrypt(META, await s.encrypt(META, PT)))).toBe('auth');
      for (let i = 1; i < 7; i++) expect((await r.decrypt(META, f[i]!)).ctr).toBe(BigInt(i));
    });

    it('addKey with the same key keeps the window; a new key under the KID resets it', async () => {
      const r = await receiver(1n, KEY_A);
      const [a0] = await frames(1n, 1, KEY_A);
      await r.decrypt(META, a0!);
      await r.addKey(1n, KEY_A); // duplicate key delivery
      expect(await rejection(r.decrypt(META, a0!))).toBe('replay');
      await r.addKey(1n, KEY_B); // rekey under the same KID
      expect(await rejection(r.decrypt(META, a0!))).toBe('auth'); // old key gone
      const [b0] = await frames(1n, 1, KEY_B);
      expect((await r.decrypt(META, b0!)).ctr).toBe(0n); // fresh window for the new key
    });

    it('removeKey zeroes the derived key and salt and forgets the KID', async () => {
      const t = instrument(backend);
      const r = new SFrameReceiver(S, t.backend);
      await r.addKey(1n, KEY_A);
      await r.addKey(2n, KEY_B);
      const [k1, k2] = derivedKeys();
      expect(k1!.key.every((b) => b === 0)).toBe(true); // raw key zeroed right after import
      expect(isZero(k1!)).toBe(false); // the salt is still needed
      expect(r.removeKey(1n)).toBe(true);
      expect(isZero(k1!)).toBe(true);
      expect(isZero(k2!)).toBe(false);
      expect(t.stats.destroyed).toBe(1);
      expect(r.hasKey(1n)).toBe(false);
      expect(r.kids).toEqual([2n]);
      expect(await rejection(r.decrypt(META, (await frames(1n, 1))[0]!))).toBe('unknown-kid');
      expect(r.removeKey(1n)).toBe(false);
    });
  });

  describe('SFrameReceiver concurrency', () => {
    it("two concurrent decrypts of one frame: exactly one accepted, the other 'replay'", async () => {
      const r = await receiver();
      const [f0, f1] = await frames(1n, 2);
      const two = await Promise.allSettled([r.decrypt(META, f0!), r.decrypt(META, f0!)]);
      expect(two.map((x) => x.status).sort()).toEqual(['fulfilled', 'rejected']);
      const lost = two.find((x) => x.status === 'rejected');
      expect(lost?.reason).toBeInstanceOf(SFrameError);
      expect((lost?.reason as SFrameError).code).toBe('replay');
      // Eight copies at once: still exactly one.
      const many = await Promise.allSettled(Array.from({ length: 8 }, () => r.decrypt(META, f1!)));
      expect(many.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
      for (const x of many) if (x.status === 'rejected') expect((x.reason as SFrameError).code).toBe('replay');
    });

    it('a frame whose key is removed or replaced while it decrypts is rejected', async () => {
      const t = instrument(backend, { opens: true });
      const r = new SFrameReceiver(S, t.backend);
      await r.addKey(1n, KEY_A);
      const [f0, f1] = await frames(1n, 2);
      const removed = rejection(r.decrypt(META, f0!));
      r.removeKey(1n);
      await release(t.heldOpens, 0);
      expect(await removed).toBe('unknown-kid');
      await r.addKey(1n, KEY_A);
      const replaced = rejection(r.decrypt(META, f1!));
      await r.addKey(1n, KEY_B);
      await release(t.heldOpens, 1);
      expect(await replaced).toBe('auth');
      const [b0] = await frames(1n, 1, KEY_B);
      const ok = r.decrypt(META, b0!);
      await release(t.heldOpens, 2);
      expect((await ok).ctr).toBe(0n);
    });

    it('addKey()/removeKey() for a KID apply in call order, whatever the import order', async () => {
      const t = instrument(backend, { imports: true });
      const r = new SFrameReceiver(S, t.backend);
      const a = await frames(1n, 2, KEY_A);
      const b = await frames(1n, 2, KEY_B);
      // addKey then removeKey: the import finishing later must not resurrect the KID.
      const added = r.addKey(1n, KEY_A);
      expect(r.removeKey(1n)).toBe(false);
      await release(t.heldImports, 0);
      await added;
      expect(r.hasKey(1n)).toBe(false);
      // addKey A then addKey B, B's import finishes first: B stays.
      const pa = r.addKey(1n, KEY_A);
      const pb = r.addKey(1n, KEY_B);
      await release(t.heldImports, 2);
      await release(t.heldImports, 1);
      await Promise.all([pa, pb]);
      expect((await r.decrypt(META, b[0]!)).ctr).toBe(0n);
      expect(await rejection(r.decrypt(META, a[1]!))).toBe('auth'); // CTR 1 unseen: the key decides
      // Key B installed, addKey A pending, then B again: B (the last requested) stays, window kept.
      const pa2 = r.addKey(1n, KEY_A);
      await r.addKey(1n, KEY_B);
      await release(t.heldImports, 3);
      await pa2;
      expect(await rejection(r.decrypt(META, b[0]!))).toBe('replay');
      expect((await r.decrypt(META, b[1]!)).ctr).toBe(1n);
      expect(t.stats.destroyed).toBe(3); // the three superseded imports
    });
  });
});

describe('key cache: HKDF spies', () => {
  it('the HKDF spies do see per-frame derivation (so the cache tests can fail)', () => {
    // One-shot encrypt derives every call. It calls deriveKeyAndSalt inside
    // sframe.ts (not through the mocked export), which is why the tests above
    // also count the HKDF primitives themselves.
    for (let i = 0; i < 3; i++) encrypt(S, KEY_A, 7n, BigInt(i), META, PT);
    expect(extract).toHaveBeenCalledTimes(3);
    expect(expand).toHaveBeenCalledTimes(6);
  });
});

describe('ReplayWindow', () => {
  it('slides over large jumps without stale marks', () => {
    const w = new ReplayWindow();
    const W = BigInt(REPLAY_WINDOW);
    expect(w.top).toBeUndefined();
    w.accept(5n);
    // 5 + W shares 5's ring slot: it must read as fresh, then 5 is too old.
    expect(w.check(5n + W)).toBe(true);
    w.accept(5n + W);
    expect(w.check(5n)).toBe(false);
    expect(w.check(6n)).toBe(true); // inside, never seen
    w.accept(6n);
    expect(w.check(6n)).toBe(false);
    // Jump by exactly one window: 6+W..5+2W region is new; 6+W's slot was 6's.
    w.accept(5n + 2n * W);
    expect(w.check(6n + W)).toBe(true);
    expect(w.check(5n + W)).toBe(false); // top - W: out
    // Jump far ahead (more than one window): everything before is old.
    w.accept(U64_MAX);
    expect(w.top).toBe(U64_MAX);
    expect(w.check(U64_MAX)).toBe(false);
    expect(w.check(U64_MAX - 1n)).toBe(true);
    expect(w.check(U64_MAX - W)).toBe(false);
  });

  it('clears the ring slots it slides over on a partial jump', () => {
    const w = new ReplayWindow();
    const W = BigInt(REPLAY_WINDOW);
    for (let c = 0n; c < 10n; c++) w.accept(c);
    w.accept(W + 5n); // jump < W: counters W..W+4 reuse the slots of 0..4
    for (let c = W; c < W + 5n; c++) expect(w.check(c), `ctr W+${c - W}`).toBe(true);
    for (let c = 6n; c < 10n; c++) expect(w.check(c), `ctr ${c}`).toBe(false); // seen, still inside
    expect(w.check(5n)).toBe(false); // top - W
    expect(w.check(3n)).toBe(false); // older than the window
  });
});
