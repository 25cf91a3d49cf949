// A relay that holds the room secret may put members in a key round that the
// pages never showed (no peerJoined, so no tile). The safety code covers the
// member list, but people compare faces and names: a hidden member must not
// get keys, and every such round must be visible as a warning (issue 11,
// review). Both attacks run against the real KeyAgreement; the control runs
// without the page's participant list and shows what the attack would win.
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { randomBytes } from '@noble/hashes/utils.js';
import { KeyAgreement, type Commitment, type Reveal, type RoundInfo, type WarningReason } from '../../shared/e2ee/key-agreement.ts';
import { commitTo, commitmentMac, roundContext } from '../../shared/crypto/key-commitment.ts';
import { deriveRoomAuthKey, generateRoomSecret } from '../../shared/crypto/room-secret.ts';

const ROOM = 'room-members';
const authKey = deriveRoomAuthKey(generateRoomSecret(), ROOM); // the attacker holds it too

interface Party {
  id: string;
  ka: KeyAgreement;
  commits: Map<number, Commitment>;
  reveals: Map<number, Reveal>;
  warnings: { peerId: string; reason: WarningReason }[];
}

/** A participant whose page shows `shown` (undefined: no participant list, the control). */
function party(id: string, slot: number, shown: Set<string> | undefined, parties: Map<string, Party>, digits = 6): Party {
  const p: Party = { id, ka: undefined as never, commits: new Map(), reveals: new Map(), warnings: [] };
  p.ka = new KeyAgreement({
    roomId: ROOM,
    selfId: id,
    slot,
    authKey,
    safetyCodeDigits: digits,
    sink: { setLocalKey: async () => undefined, addRemoteKey: () => undefined, removeRemoteKey: () => undefined },
    transport: {
      commit: (round, commitment, mac) => p.commits.set(round, { peerId: id, round, commitment, mac }),
      reveal: (round, publicKey, nonce) => p.reveals.set(round, { peerId: id, round, publicKey, nonce }),
      deliver: (to, kid, box) => {
        const r = parties.get(to);
        if (r) queueMicrotask(() => r.ka.handleDelivery({ from: id, kid, box }));
      },
    },
    onEvent: (e) => void (e.type === 'warning' && p.warnings.push({ peerId: e.peerId, reason: e.reason })),
    timers: { setTimeout: () => () => undefined },
    ...(shown ? { isParticipant: (peerId: string) => shown.has(peerId) } : {}),
  });
  parties.set(id, p);
  return p;
}

const settle = async (ps: Party[]) => {
  for (let i = 0; i < 10; i++) {
    await Promise.all(ps.map((p) => p.ka.settled()));
    await new Promise((r) => setImmediate(r));
  }
};

/** A round in which every party commits, then reveals, through a relay that passes everything. */
async function fullRound(ps: Party[], info: RoundInfo, first: boolean): Promise<void> {
  for (const p of ps) if (first) await p.ka.start(info);
  else p.ka.handleRound(info);
  for (const x of ps) for (const y of ps) if (x !== y && y.commits.has(info.round)) x.ka.handleCommitment(y.commits.get(info.round)!);
  for (const x of ps) for (const y of ps) if (x !== y && y.reveals.has(info.round)) x.ka.handleReveal(y.reveals.get(info.round)!);
  await settle(ps);
}

const threeWithGhost: RoundInfo = {
  round: 1,
  members: [
    { peerId: 'A', slot: 0 },
    { peerId: 'B', slot: 1 },
    { peerId: 'G', slot: 2 },
  ],
};

describe('a key round member the pages never showed', () => {
  it('control, without the participant list: the hidden member reads A’s media and the codes still agree', async () => {
    const parties = new Map<string, Party>();
    const [a, b, g] = [party('A', 0, undefined, parties), party('B', 1, undefined, parties), party('G', 2, undefined, parties)];
    await fullRound([a, b, g], threeWithGhost, true);
    expect(a.ka.safetyCode).toBe(b.ka.safetyCode);
    expect(a.warnings.length + b.warnings.length).toBe(0);
    expect(g.ka.receiveKey('A', a.ka.localKid!)).toEqual(a.ka.currentSendKey()!.key);
  });

  it('gets no key and is a warning on both pages; A and B still agree between themselves', async () => {
    const parties = new Map<string, Party>();
    const a = party('A', 0, new Set(['B']), parties);
    const b = party('B', 1, new Set(['A']), parties);
    const g = party('G', 2, new Set(['A', 'B']), parties);
    await fullRound([a, b, g], threeWithGhost, true);
    for (const p of [a, b]) expect(p.warnings).toContainEqual({ peerId: 'G', reason: 'unknown-member' });
    expect(g.ka.receiveKey('A', a.ka.localKid!)).toBeUndefined();
    expect(g.ka.receiveKey('B', b.ka.localKid!)).toBeUndefined();
    expect(a.ka.safetyCode).toBeDefined();
    expect(a.ka.safetyCode).toBe(b.ka.safetyCode);
    expect(b.ka.receiveKey('A', a.ka.localKid!)).toEqual(a.ka.currentSendKey()!.key);
  });

  it('a man in the middle cannot churn rounds silently: toggling a hidden member to restart is a warning at once', async () => {
    const parties = new Map<string, Party>();
    const a = party('A', 0, new Set(['B']), parties, 3);
    const b = party('B', 1, new Set(['A']), parties, 3);
    const pair = [
      { peerId: 'A', slot: 0 },
      { peerId: 'B', slot: 1 },
    ];
    await a.ka.start({ round: 1, members: pair });
    await b.ka.start({ round: 1, members: pair });
    // It plays B to A and A to B with committed contributions of its own…
    const fake = (peerId: string, slot: number, info: RoundInfo) => {
      const der = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'der' });
      const publicKey = new Uint8Array(der.subarray(der.length - 32));
      const ctx = roundContext(ROOM, info.round, info.members);
      const nonce = randomBytes(32);
      const commitment = commitTo(ctx, publicKey, nonce);
      return {
        c: { peerId, round: info.round, commitment, mac: commitmentMac(authKey, ROOM, peerId, slot, ctx, commitment) },
        r: { peerId, round: info.round, publicKey, nonce },
      };
    };
    const info: RoundInfo = { round: 1, members: pair };
    const asB = fake('B', 1, info);
    const asA = fake('A', 0, info);
    a.ka.handleCommitment(asB.c);
    b.ka.handleCommitment(asA.c);
    a.ka.handleReveal(asB.r);
    b.ka.handleReveal(asA.r);
    await settle([a, b]);
    // …and, were the codes different, would restart with a member nobody sees, then the pair again.
    a.ka.handleRound({ round: 2, members: [...pair, { peerId: 'G', slot: 2 }] });
    b.ka.handleRound({ round: 2, members: [...pair, { peerId: 'G', slot: 2 }] });
    for (const p of [a, b]) expect(p.warnings).toContainEqual({ peerId: 'G', reason: 'unknown-member' });
  });
});
