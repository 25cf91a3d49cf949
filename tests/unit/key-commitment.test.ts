// Key rounds' crypto (shared/crypto/key-commitment.ts) and the safety code
// (shared/crypto/safety-code.ts), checked against the formulas in
// docs/protocol.md recomputed with node:crypto, and for what each binds.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MAX_ROUND,
  commitTo,
  commitmentMac,
  revealMatches,
  roundContext,
  validMembers,
  verifyCommitmentMac,
  type RoundMember,
} from '../../shared/crypto/key-commitment.ts';
import { safetyCode } from '../../shared/crypto/safety-code.ts';

const ROOM = 'room-1';
const MEMBERS: RoundMember[] = [
  { peerId: 'bob', slot: 1 },
  { peerId: 'alice', slot: 0 },
];

function seeded(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 97 + 3) & 0xff;
  return b;
}

function flip(b: Uint8Array, i: number): Uint8Array {
  const out = b.slice();
  out[i] = (out[i] ?? 0) ^ 1;
  return out;
}

/** F(x) = len(x) as 2 bytes big-endian ‖ x (docs/protocol.md). */
function F(x: Uint8Array | string): Buffer {
  const b = typeof x === 'string' ? Buffer.from(x, 'utf8') : Buffer.from(x);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

describe('round context', () => {
  it('is SHA-256 over the room, the 4-byte round number and the members by slot, as in the docs', () => {
    const ctx = roundContext(ROOM, 0x01020304, MEMBERS);
    const expected = sha(
      F('confide round v1'),
      F(ROOM),
      F(Uint8Array.from([1, 2, 3, 4])),
      F(Buffer.concat([F(Uint8Array.from([0])), F('alice')])),
      F(Buffer.concat([F(Uint8Array.from([1])), F('bob')])),
    );
    expect(Buffer.from(ctx).toString('hex')).toBe(expected.toString('hex'));
    expect(roundContext(ROOM, 0x01020304, [...MEMBERS].reverse())).toEqual(ctx); // order given does not matter
  });

  it('changes with the room, the round, any member or slot', () => {
    const ctx = roundContext(ROOM, 7, MEMBERS);
    for (const other of [
      roundContext('room-2', 7, MEMBERS),
      roundContext(ROOM, 8, MEMBERS),
      roundContext(ROOM, 7, [{ peerId: 'alice', slot: 0 }]),
      roundContext(ROOM, 7, [...MEMBERS, { peerId: 'carol', slot: 2 }]),
      roundContext(ROOM, 7, [{ peerId: 'alice', slot: 1 }, { peerId: 'bob', slot: 0 }]),
      roundContext(ROOM, 7, [{ peerId: 'alice', slot: 0 }, { peerId: 'bobby', slot: 1 }]),
    ]) {
      expect(other).not.toEqual(ctx);
    }
  });

  it('refuses invalid member lists and round numbers', () => {
    expect(validMembers(MEMBERS)).toBe(true);
    for (const bad of [
      [],
      [{ peerId: 'a', slot: 0 }, { peerId: 'a', slot: 1 }],
      [{ peerId: 'a', slot: 0 }, { peerId: 'b', slot: 0 }],
      [{ peerId: 'a', slot: 16 }],
      [{ peerId: 'a', slot: -1 }],
      [{ peerId: 'a', slot: 0.5 }],
      Array.from({ length: 17 }, (_, i) => ({ peerId: `p${i}`, slot: i % 16 })),
    ]) {
      expect(validMembers(bad)).toBe(false);
      expect(() => roundContext(ROOM, 1, bad)).toThrow();
    }
    for (const round of [0, -1, 1.5, MAX_ROUND + 1, Number.NaN]) expect(() => roundContext(ROOM, round, MEMBERS)).toThrow();
    expect(() => roundContext(ROOM, MAX_ROUND, MEMBERS)).not.toThrow();
  });
});

describe('commitment', () => {
  const ctx = roundContext(ROOM, 3, MEMBERS);
  const pk = seeded(32, 1);
  const nonce = seeded(32, 2);
  const authKey = seeded(32, 3);

  it('is SHA-256 over the context, the public key and the nonce, as in the docs', () => {
    const c = commitTo(ctx, pk, nonce);
    expect(Buffer.from(c).toString('hex')).toBe(sha(F('confide commit v1'), F(ctx), F(pk), F(nonce)).toString('hex'));
  });

  it('opens only with the same key and nonce in the same round', () => {
    const c = commitTo(ctx, pk, nonce);
    expect(revealMatches(c, ctx, pk, nonce)).toBe(true);
    expect(revealMatches(c, ctx, flip(pk, 0), nonce)).toBe(false);
    expect(revealMatches(c, ctx, pk, flip(nonce, 31))).toBe(false);
    expect(revealMatches(c, roundContext(ROOM, 4, MEMBERS), pk, nonce)).toBe(false);
    expect(revealMatches(flip(c, 5), ctx, pk, nonce)).toBe(false);
    expect(revealMatches(c, ctx, pk.subarray(0, 31), nonce)).toBe(false);
    expect(revealMatches(c, ctx, pk, new Uint8Array(33))).toBe(false);
    expect(() => commitTo(ctx, pk, new Uint8Array(31))).toThrow();
  });

  it('its MAC is HMAC-SHA256 under the room auth key over room, peer, slot, context and commitment', () => {
    const c = commitTo(ctx, pk, nonce);
    const mac = commitmentMac(authKey, ROOM, 'bob', 1, ctx, c);
    const expected = createHmac('sha256', authKey)
      .update(Buffer.concat([F('confide commitment v1'), F(ROOM), F('bob'), F(Uint8Array.from([1])), F(ctx), F(c)]))
      .digest();
    expect(Buffer.from(mac).toString('hex')).toBe(expected.toString('hex'));
    expect(verifyCommitmentMac(authKey, ROOM, 'bob', 1, ctx, c, mac)).toBe(true);
  });

  it('its MAC binds the room, the peer, the slot, the round and the key', () => {
    const c = commitTo(ctx, pk, nonce);
    const mac = commitmentMac(authKey, ROOM, 'bob', 1, ctx, c);
    expect(verifyCommitmentMac(authKey, 'room-2', 'bob', 1, ctx, c, mac)).toBe(false);
    expect(verifyCommitmentMac(authKey, ROOM, 'alice', 1, ctx, c, mac)).toBe(false);
    expect(verifyCommitmentMac(authKey, ROOM, 'bob', 0, ctx, c, mac)).toBe(false);
    expect(verifyCommitmentMac(authKey, ROOM, 'bob', 1, roundContext(ROOM, 4, MEMBERS), c, mac)).toBe(false);
    expect(verifyCommitmentMac(authKey, ROOM, 'bob', 1, ctx, flip(c, 0), mac)).toBe(false);
    expect(verifyCommitmentMac(flip(authKey, 0), ROOM, 'bob', 1, ctx, c, mac)).toBe(false);
    expect(verifyCommitmentMac(authKey, ROOM, 'bob', 1, ctx, c, flip(mac, 31))).toBe(false);
    expect(verifyCommitmentMac(authKey, ROOM, 'bob', 257, ctx, c, mac)).toBe(false);
    expect(verifyCommitmentMac(authKey, ROOM, 'bob', Number.NaN, ctx, c, mac)).toBe(false);
    expect(verifyCommitmentMac(authKey, ROOM, 'bob', 1, ctx, c, mac.subarray(0, 31))).toBe(false);
    expect(() => commitmentMac(authKey, ROOM, 'bob', 16, ctx, c)).toThrow();
  });
});

describe('safety code', () => {
  const ctx = roundContext(ROOM, 2, MEMBERS);
  const A = { slot: 0, publicKey: seeded(32, 1), nonce: seeded(32, 11) };
  const B = { slot: 1, publicKey: seeded(32, 2), nonce: seeded(32, 12) };

  it('is six digits from SHA-256 over the context and each member\'s key and nonce by slot, as in the docs', () => {
    const code = safetyCode(ctx, [A, B]);
    expect(code).toMatch(/^\d{3} \d{3}$/);
    const d = sha(
      F('confide safety v2'),
      F(ctx),
      F(Buffer.concat([F(Uint8Array.from([0])), F(A.publicKey), F(A.nonce)])),
      F(Buffer.concat([F(Uint8Array.from([1])), F(B.publicKey), F(B.nonce)])),
    );
    const digits = String(d.readUInt32BE(0) % 1_000_000).padStart(6, '0');
    expect(code).toBe(`${digits.slice(0, 3)} ${digits.slice(3)}`);
    expect(safetyCode(ctx, [A, B], 3)).toBe(String(d.readUInt32BE(0) % 1000).padStart(3, '0'));
  });

  it('is the same whatever the order of contributions, and changes with any key, nonce, slot or round', () => {
    const code = safetyCode(ctx, [A, B]);
    expect(safetyCode(ctx, [B, A])).toBe(code);
    for (const other of [
      safetyCode(ctx, [A, { ...B, nonce: flip(B.nonce, 0) }]),
      safetyCode(ctx, [A, { ...B, publicKey: flip(B.publicKey, 0) }]),
      safetyCode(ctx, [{ ...A, slot: 2 }, B]),
      safetyCode(roundContext(ROOM, 3, MEMBERS), [A, B]),
      safetyCode(ctx, [A]),
    ]) {
      // 1 in 10^6 that a changed input keeps the code: these fixed inputs do not.
      expect(other).not.toBe(code);
    }
  });

  it('spreads evenly over its digits (no digit value favoured)', () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 2000; i++) counts[Number(safetyCode(ctx, [A, { ...B, nonce: seeded(32, i + 100) }], 1))]!++;
    for (const n of counts) expect(n).toBeGreaterThan(130); // 200 expected each
  });

  it('refuses bad digit counts and slots', () => {
    expect(() => safetyCode(ctx, [A], 0)).toThrow();
    expect(() => safetyCode(ctx, [A], 10)).toThrow();
    expect(() => safetyCode(ctx, [{ ...A, slot: 256 }])).toThrow();
    expect(safetyCode(ctx, [A], 9)).toMatch(/^\d{3} \d{3} \d{3}$/);
  });
});
