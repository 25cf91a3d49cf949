// KID layout (slot | epoch | step) and the RFC 9605 §5.1 sender-key ratchet.
import { createHmac } from 'node:crypto';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { BASE_KEY_BYTES, MAX_SLOTS, kidAfter, makeKid, parseKid, ratchetBaseKey } from '../../shared/crypto/key-schedule.ts';

function seeded(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 29 + seed * 101 + 7) & 0xff;
  return b;
}

describe('KID layout', () => {
  it('packs slot (4 bits) | epoch (2) | step (2) into one byte, as in the docs', () => {
    expect(makeKid({ slot: 2, epoch: 0, step: 1 })).toBe(0x21n);
    expect(makeKid({ slot: 0, epoch: 0, step: 0 })).toBe(0n);
    expect(makeKid({ slot: 15, epoch: 3, step: 3 })).toBe(0xffn);
    expect(makeKid({ slot: 5, epoch: 2, step: 3 })).toBe(BigInt((5 << 4) | (2 << 2) | 3));
    expect(parseKid(0xb6n)).toEqual({ slot: 0xb, epoch: 1, step: 2 });
  });

  it('round-trips every slot, epoch and step, each to a distinct KID covering 0..255', () => {
    const seen = new Set<bigint>();
    for (let slot = 0; slot < MAX_SLOTS; slot++) {
      for (let epoch = 0; epoch < 4; epoch++) {
        for (let step = 0; step < 4; step++) {
          const kid = makeKid({ slot, epoch, step });
          expect(parseKid(kid)).toEqual({ slot, epoch, step });
          seen.add(kid);
        }
      }
    }
    expect(seen.size).toBe(256);
    expect([...seen].every((k) => k >= 0n && k <= 0xffn)).toBe(true);
    for (let k = 0n; k <= 0xffn; k++) expect(makeKid(parseKid(k))).toBe(k);
  });

  it('wraps epoch and step (2 bits each) without touching the slot', () => {
    for (let slot = 0; slot < MAX_SLOTS; slot++) {
      expect(makeKid({ slot, epoch: 4, step: 0 })).toBe(makeKid({ slot, epoch: 0, step: 0 }));
      expect(makeKid({ slot, epoch: 5, step: 6 })).toBe(makeKid({ slot, epoch: 1, step: 2 }));
      expect(parseKid(makeKid({ slot, epoch: 7, step: 7 }))).toEqual({ slot, epoch: 3, step: 3 });
      expect(parseKid(makeKid({ slot, epoch: 6, step: 4 }))).toEqual({ slot, epoch: 2, step: 0 });
    }
  });

  it('refuses slots out of 0..15 and KIDs out of one byte', () => {
    for (const slot of [-1, 16, 17, 255, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => makeKid({ slot, epoch: 0, step: 0 }), `slot ${slot}`).toThrow(/slot out of range/);
    }
    for (const kid of [-1n, 0x100n, 0xffffn, 2n ** 64n]) expect(() => parseKid(kid), `kid ${kid}`).toThrow(/KID out of range/);
  });

  it('kidAfter moves the step only, wrapping within the same slot and epoch', () => {
    const kid = makeKid({ slot: 7, epoch: 2, step: 2 });
    expect(kidAfter(kid, 0)).toBe(kid);
    expect(parseKid(kidAfter(kid, 1))).toEqual({ slot: 7, epoch: 2, step: 3 });
    expect(parseKid(kidAfter(kid, 2))).toEqual({ slot: 7, epoch: 2, step: 0 });
    expect(parseKid(kidAfter(kid, 3))).toEqual({ slot: 7, epoch: 2, step: 1 });
    expect(kidAfter(kid, 4)).toBe(kid);
    expect(parseKid(kidAfter(makeKid({ slot: 15, epoch: 3, step: 3 }), 1))).toEqual({ slot: 15, epoch: 3, step: 0 });
  });
});

describe('ratchetBaseKey (RFC 9605 §5.1)', () => {
  it('is HKDF-Expand(base_key, "SFrame 1.0 Ratchet", 32), checked against node:crypto HMAC', () => {
    for (let seed = 0; seed < 8; seed++) {
      const key = seeded(BASE_KEY_BYTES, seed);
      // HKDF-Expand with L = HashLen is T(1) = HMAC(PRK, info || 0x01).
      const expected = createHmac('sha256', key)
        .update(Buffer.concat([Buffer.from('SFrame 1.0 Ratchet'), Buffer.from([1])]))
        .digest();
      expect(bytesToHex(ratchetBaseKey(key))).toBe(expected.toString('hex'));
    }
  });

  it('is deterministic, 32 bytes, leaves its input alone and differs from it', () => {
    const key = seeded(32, 1);
    const copy = key.slice();
    const a = ratchetBaseKey(key);
    const b = ratchetBaseKey(key);
    expect(a).toHaveLength(BASE_KEY_BYTES);
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
    expect(key).toEqual(copy);
    expect(a).not.toEqual(key);
    // Not a simple relation to the input: no byte is a fixed xor/shift of the input's.
    expect(new Set(Array.from(a, (x, i) => x ^ key[i]!)).size).toBeGreaterThan(8);
  });

  it('gives a chain of distinct keys, and distinct chains for distinct inputs', () => {
    const seen = new Set<string>();
    for (const seed of [1, 2]) {
      let k = seeded(32, seed);
      for (let i = 0; i < 200; i++) {
        seen.add(bytesToHex(k));
        k = ratchetBaseKey(k);
      }
    }
    expect(seen.size).toBe(400);
    // A one-bit change in the input changes about half the output bits.
    const x = seeded(32, 3);
    const y = x.slice();
    y[0] = y[0]! ^ 1;
    const rx = ratchetBaseKey(x);
    const ry = ratchetBaseKey(y);
    let bits = 0;
    for (let i = 0; i < 32; i++) for (let v = rx[i]! ^ ry[i]!; v; v >>= 1) bits += v & 1;
    expect(bits).toBeGreaterThan(80);
    expect(bits).toBeLessThan(176);
  });
});
