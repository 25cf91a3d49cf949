// Room secret, pairwise keys and key boxes
// (shared/crypto/{room-secret,key-exchange}.ts),
// checked against the formulas in docs/protocol.md recomputed with node:crypto.
import { hkdfSync } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  ROOM_SECRET_BYTES,
  deriveRoomAuthKey,
  generateRoomSecret,
  parseRoomSecretFragment,
  roomSecretFragment,
} from '../../shared/crypto/room-secret.ts';
import {
  KEY_BOX_MAX_BYTES,
  compareBytes,
  generateKeyPair,
  openKeyBox,
  pairwiseKey,
  sealKeyBox,
  type KeyBoxContext,
  type KeyPair,
} from '../../shared/crypto/key-exchange.ts';

const ROOM = 'room-1';

function seeded(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 97 + 3) & 0xff;
  return b;
}

function flip(b: Uint8Array, i: number, bit = 1): Uint8Array {
  const out = b.slice();
  out[i] = (out[i] ?? 0) ^ bit;
  return out;
}

/** A fixed key pair, so codes and MACs below are reproducible. */
function fixedPair(seed: number): KeyPair {
  const secretKey = seeded(32, seed);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/** F(x) = len(x) as 2 bytes big-endian ‖ x (docs/protocol.md). */
function F(x: Uint8Array | string): Buffer {
  const b = typeof x === 'string' ? Buffer.from(x, 'utf8') : Buffer.from(x);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

// ------------------------------------------------------------ room secret

describe('room secret', () => {
  it('is 32 random bytes', () => {
    const a = generateRoomSecret();
    const b = generateRoomSecret();
    expect(a).toHaveLength(ROOM_SECRET_BYTES);
    expect(a).not.toEqual(b);
  });

  it('round-trips through the URL fragment, with or without # and beside other parameters', () => {
    const secret = generateRoomSecret();
    const frag = roomSecretFragment(secret);
    expect(frag).toBe(`k=${bytesToHex(secret)}`);
    expect(frag).toMatch(/^k=[0-9a-f]{64}$/);
    expect(parseRoomSecretFragment(frag)).toEqual(secret);
    expect(parseRoomSecretFragment(`#${frag}`)).toEqual(secret);
    expect(parseRoomSecretFragment(`#lang=fr&${frag}&x=1`)).toEqual(secret);
    expect(new URL(`https://host/room/r1#${frag}`).hash.length).toBe(frag.length + 1);
    expect(parseRoomSecretFragment(new URL(`https://host/room/r1#${frag}`).hash)).toEqual(secret);
  });

  it('refuses a secret of the wrong size', () => {
    expect(() => roomSecretFragment(new Uint8Array(31))).toThrow();
    expect(() => roomSecretFragment(new Uint8Array(33))).toThrow();
  });

  it('reads malformed or missing fragments as undefined', () => {
    const hex = bytesToHex(seeded(32, 1));
    for (const bad of [
      '',
      '#',
      'k=',
      `k=${hex.slice(0, 63)}`,
      `k=${hex}0`,
      `k=${hex.slice(0, 62)}zz`,
      `k=${hex.toUpperCase()}`,
      `K=${hex}`,
      `key=${hex}`,
      `k= ${hex}`,
      hex,
      `k=0x${hex.slice(2)}`,
    ]) {
      expect(parseRoomSecretFragment(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('derives the room auth key per the docs, bound to the secret and the room id', () => {
    const secret = seeded(32, 2);
    const k = deriveRoomAuthKey(secret, ROOM);
    expect(k).toHaveLength(32);
    const expected = Buffer.from(hkdfSync('sha256', secret, Buffer.from('confide room v1'), Buffer.from(`auth ${ROOM}`), 32));
    expect(bytesToHex(k)).toBe(expected.toString('hex'));
    expect(deriveRoomAuthKey(secret, ROOM)).toEqual(k);
    expect(deriveRoomAuthKey(secret, 'room-2')).not.toEqual(k);
    expect(deriveRoomAuthKey(secret, `${ROOM} `)).not.toEqual(k);
    expect(deriveRoomAuthKey(seeded(32, 3), ROOM)).not.toEqual(k);
    expect(k).not.toEqual(secret);
  });
});

// ------------------------------------------------------------ pairwise keys

describe('pairwise key', () => {
  const authKey = deriveRoomAuthKey(seeded(32, 6), ROOM);

  it('is the same on both sides and follows the docs (HKDF over the X25519 secret, salted with the auth key)', () => {
    const a = fixedPair(1);
    const b = fixedPair(2);
    const ab = pairwiseKey(a, b.publicKey, authKey, ROOM);
    const ba = pairwiseKey(b, a.publicKey, authKey, ROOM);
    expect(ab).toHaveLength(32);
    expect(ab).toEqual(ba);
    const shared = x25519.getSharedSecret(a.secretKey, b.publicKey);
    const [lo, hi] = compareBytes(a.publicKey, b.publicKey) < 0 ? [a.publicKey, b.publicKey] : [b.publicKey, a.publicKey];
    const info = Buffer.concat([F('confide pairwise v1'), F(ROOM), F(lo), F(hi)]);
    expect(bytesToHex(ab)).toBe(Buffer.from(hkdfSync('sha256', shared, authKey, info, 32)).toString('hex'));
    expect(ab).not.toEqual(shared);
  });

  it('is symmetric for random pairs and distinct for every pair, room and auth key', () => {
    const ps = [generateKeyPair(), generateKeyPair(), generateKeyPair()] as const;
    const [a, b, c] = ps;
    const ab = pairwiseKey(a, b.publicKey, authKey, ROOM);
    expect(pairwiseKey(b, a.publicKey, authKey, ROOM)).toEqual(ab);
    expect(pairwiseKey(a, c.publicKey, authKey, ROOM)).toEqual(pairwiseKey(c, a.publicKey, authKey, ROOM));
    const all = [
      ab,
      pairwiseKey(a, c.publicKey, authKey, ROOM),
      pairwiseKey(b, c.publicKey, authKey, ROOM),
      pairwiseKey(a, b.publicKey, authKey, 'room-2'),
      pairwiseKey(a, b.publicKey, deriveRoomAuthKey(seeded(32, 7), ROOM), ROOM),
    ];
    expect(new Set(all.map((k) => bytesToHex(k))).size).toBe(all.length);
  });

  it('refuses a low-order public key (all-zero shared secret)', () => {
    const a = generateKeyPair();
    expect(() => pairwiseKey(a, new Uint8Array(32), authKey, ROOM)).toThrow();
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(() => pairwiseKey(a, one, authKey, ROOM)).toThrow();
  });

  it('generates fresh key pairs whose public key matches the secret', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    expect(a.publicKey).toEqual(x25519.getPublicKey(a.secretKey));
    expect(a.secretKey).not.toEqual(b.secretKey);
    expect(a.publicKey).toHaveLength(32);
  });
});

// ------------------------------------------------------------ key boxes

describe('key boxes', () => {
  const pw = seeded(32, 8);
  const ctx: KeyBoxContext = { roomId: ROOM, from: 'A', to: 'B', kid: 0x21 };
  const baseKey = seeded(32, 9);

  it('carry a media key (73 bytes) or an acknowledgement (41 bytes), with a fresh nonce each time', () => {
    const box = sealKeyBox(pw, ctx, { type: 'key', baseKey });
    expect(box).toHaveLength(73);
    expect(KEY_BOX_MAX_BYTES).toBe(73);
    expect(openKeyBox(pw, ctx, box)).toEqual({ type: 'key', baseKey });
    const ack = sealKeyBox(pw, ctx, { type: 'ack' });
    expect(ack).toHaveLength(41);
    expect(openKeyBox(pw, ctx, ack)).toEqual({ type: 'ack' });
    const again = sealKeyBox(pw, ctx, { type: 'key', baseKey });
    expect(again.subarray(0, 24)).not.toEqual(box.subarray(0, 24));
    expect(again).not.toEqual(box);
    expect(baseKey).toEqual(seeded(32, 9)); // the caller's key is not touched
  });

  it('follows the docs: XChaCha20-Poly1305 with the length-prefixed AAD, opened from a box made by hand', () => {
    const nonce = seeded(24, 10);
    const aad = Buffer.concat([F('confide key box v1'), F(ctx.roomId), F(ctx.from), F(ctx.to), F(new Uint8Array([ctx.kid]))]);
    const body = Uint8Array.from([1, ...baseKey]);
    const box = Uint8Array.from([...nonce, ...xchacha20poly1305(pw, nonce, aad).encrypt(body)]);
    expect(openKeyBox(pw, ctx, box)).toEqual({ type: 'key', baseKey });
    // Unknown content types or sizes are refused even when authentic.
    for (const bad of [Uint8Array.from([3, ...baseKey]), Uint8Array.from([1, ...baseKey.subarray(1)]), Uint8Array.from([2, 0]), new Uint8Array([0])]) {
      const b = Uint8Array.from([...nonce, ...xchacha20poly1305(pw, nonce, aad).encrypt(bad)]);
      expect(() => openKeyBox(pw, ctx, b)).toThrow();
    }
  });

  it('fail to open in any other context', () => {
    const box = sealKeyBox(pw, ctx, { type: 'key', baseKey });
    const others: KeyBoxContext[] = [
      { ...ctx, roomId: 'room-2' },
      { ...ctx, from: 'C' },
      { ...ctx, to: 'C' },
      { ...ctx, from: 'B', to: 'A' },
      { ...ctx, from: 'AB', to: '' },
      { ...ctx, kid: 0x20 },
      { ...ctx, kid: 0x22 },
      { ...ctx, kid: 0x25 },
      { ...ctx, kid: 0x31 },
    ];
    for (const o of others) expect(() => openKeyBox(pw, o, box), JSON.stringify(o)).toThrow();
    for (let kid = 0; kid < 256; kid++) if (kid !== ctx.kid) expect(() => openKeyBox(pw, { ...ctx, kid }, box)).toThrow();
  });

  it('refuse a KID that only shares the low byte (or integer part) of the real one', () => {
    const box = sealKeyBox(pw, ctx, { type: 'key', baseKey });
    for (const kid of [ctx.kid + 256, ctx.kid - 256, ctx.kid + 0.5, -ctx.kid, Number.NaN]) {
      expect(() => openKeyBox(pw, { ...ctx, kid }, box), `kid ${kid}`).toThrow();
    }
    expect(() => sealKeyBox(pw, { ...ctx, kid: 256 }, { type: 'ack' })).toThrow();
    expect(() => sealKeyBox(pw, { ...ctx, kid: -1 }, { type: 'ack' })).toThrow();
  });

  it('fail to open after any tampering, or under another key', () => {
    for (const content of [{ type: 'key', baseKey } as const, { type: 'ack' } as const]) {
      const box = sealKeyBox(pw, ctx, content);
      for (let i = 0; i < box.length; i++) expect(() => openKeyBox(pw, ctx, flip(box, i)), `byte ${i}`).toThrow();
      expect(() => openKeyBox(pw, ctx, box.subarray(0, box.length - 1))).toThrow();
      expect(() => openKeyBox(pw, ctx, Uint8Array.from([...box, 0]))).toThrow();
      expect(() => openKeyBox(pw, ctx, box.subarray(0, 40))).toThrow();
      expect(() => openKeyBox(flip(pw, 0), ctx, box)).toThrow();
      expect(() => openKeyBox(seeded(32, 11), ctx, box)).toThrow();
    }
    expect(() => openKeyBox(pw, ctx, new Uint8Array(200))).toThrow(/length/);
  });
});
