// The server as an attacker, in real pages. (1) It swaps Bob's key for one of
// its own in what it relays to Alice (a commitment over its key, under Bob's
// MAC, and the matching reveal) and feeds the pages garbage key messages:
// Alice must refuse the key, warn, and never give the attacker a base key it
// can open; no page breaks. (2) It passes reveals that do not open their
// commitments (another public key than the one committed to, both ways):
// both pages warn and neither boxes a key to that key. (3) It starts a key
// round with a member the pages were never shown (no peerJoined, no tile),
// with a commitment MAC'd under the room secret it holds: both pages warn.
// (4) It hides a member behind real people: in the join answer and in a
// peerJoined it gives the ghost the doctor's and the patient's
// participantId (one tile each), then runs a full round with it: both pages
// warn, and the ghost can open no key box.
import { hexToBytes, bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ConfideServer } from '../../server/app.ts';
import type { KeyRoundInfo } from '../../shared/protocol/signalling.ts';
import { launchChromium, newPerson } from './support/browser.ts';
import { startTestServer } from './support/server.ts';
import { enableKeyHooks, inbound } from './support/call.ts';
import { TestConsultation } from './support/consultation.ts';
import { generateKeyPair, openKeyBox, pairwiseKey } from '../../shared/crypto/key-exchange.ts';
import { commitTo, commitmentMac, roundContext } from '../../shared/crypto/key-commitment.ts';
import { deriveRoomAuthKey } from '../../shared/crypto/room-secret.ts';

const attacker = generateKeyPair();
/** What the relay does: swap Bob's key toward Alice (1), or swap every reveal's key (2). */
let mode: { kind: 'swap-to'; victim: string } | { kind: 'bad-reveals' } | undefined;
const rounds = new Map<number, KeyRoundInfo>(); // as the server announced them
const revealed = new Map<string, string>(); // peer id → public key, as its owner revealed it
const boxes: { from: string; to: string; kid: number; box: string }[] = [];

let server: ConfideServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer({}, {
    tamper: (event, to, data) => {
      const d = data as Record<string, unknown>;
      if (event === 'keyRound') rounds.set(d.round as number, d as unknown as KeyRoundInfo);
      if (event === 'keyRevealed') revealed.set(d.peerId as string, d.publicKey as string);
      if (event === 'keyDelivered') boxes.push({ from: d.from as string, to, kid: d.kid as number, box: d.box as string });
      if (mode?.kind === 'swap-to' && to === mode.victim && d.peerId !== mode.victim) {
        // Without the room secret the relay can only keep the sender's MAC.
        const info = rounds.get(d.round as number);
        if (event === 'keyCommitted' && info) {
          const ctx = roundContext(currentRoom, info.round, info.members);
          return { ...d, commitment: bytesToHex(commitTo(ctx, attacker.publicKey, nonceFor(info.round))) };
        }
        if (event === 'keyRevealed') return { ...d, publicKey: bytesToHex(attacker.publicKey), nonce: bytesToHex(nonceFor(d.round as number)) };
      }
      if (mode?.kind === 'bad-reveals' && event === 'keyRevealed') return { ...d, publicKey: bytesToHex(attacker.publicKey) };
      return data;
    },
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

let currentRoom = '';
const nonces = new Map<number, Uint8Array>();
const nonceFor = (round: number) => nonces.get(round) ?? nonces.set(round, randomBytes(32)).get(round)!;

type Snapshot = { verifiedPeers: string[]; warnings: { peerId: string; reason: string }[]; safetyCode?: string };
const keyAgreement = (page: Page) => page.evaluate(() => (window.__confide?.keyAgreement as () => Snapshot)());

/** The attacker, even holding the room secret, tries to open every box the relay carried. */
function attackerOpens(secret: Uint8Array, room: string, ids: string[]): number {
  const authKey = deriveRoomAuthKey(secret, room);
  let opened = 0;
  for (const bx of boxes) {
    const sender = revealed.get(bx.from);
    if (!sender) continue;
    const pw = pairwiseKey(attacker, hexToBytes(sender), authKey, room);
    for (const to of [bx.to, ...ids]) {
      try {
        openKeyBox(pw, { roomId: room, from: bx.from, to, kid: bx.kid }, hexToBytes(bx.box));
        opened++;
      } catch {
        // expected
      }
    }
  }
  return opened;
}

async function people() {
  const errors: string[] = [];
  const a = await newPerson(browser, server.url);
  const b = await newPerson(browser, server.url);
  for (const p of [a, b]) {
    await enableKeyHooks(p.context, 'observe');
    p.page.on('pageerror', (e) => errors.push(e.message));
  }
  return { a, b, errors };
}

describe('malicious relay', () => {
  it('a swapped public key is rejected with a warning and never receives a usable key', async () => {
    const { a, b, errors } = await people();
    const c = await TestConsultation.create(server);
    currentRoom = c.id;
    const aId = await c.joinAsDoctor(a.page);
    mode = { kind: 'swap-to', victim: aId }; // everything Alice hears of others is swapped
    const bId = await c.joinAsPatient(b.page, 'Bob');

    const warning = a.page.getByTestId('security-warning');
    await warning.waitFor({ timeout: 15_000 });
    expect(await warning.textContent()).toContain('Bob');
    const ka = await keyAgreement(a.page);
    expect(ka.verifiedPeers).not.toContain(bId);
    expect(ka.warnings).toContainEqual({ peerId: bId, reason: 'bad-commitment' });

    // Garbage key messages straight to both pages: malformed (schema) and well-formed but bogus.
    for (const from of [aId, bId]) {
      server.io.emit('keyDelivered', { from, kid: 1, box: 'zz' });
      server.io.emit('keyDelivered', { from, kid: 1, box: 'ab'.repeat(73) });
      server.io.emit('keyDelivered', { from, kid: 1, box: 'ab'.repeat(100_000) });
      server.io.emit('keyRound', { round: 99, members: [{ peerId: from, slot: 99 }] });
      server.io.emit('keyRound', { round: 1, members: [] });
      server.io.emit('keyCommitted', { peerId: from, round: 'x', commitment: 'ab'.repeat(32), mac: 1 });
      server.io.emit('keyCommitted', { peerId: from, round: 2, commitment: 'ab'.repeat(32), mac: 'cd'.repeat(32) });
      server.io.emit('keyRevealed', { peerId: from, round: 2, publicKey: 'ab'.repeat(32), nonce: 'cd'.repeat(32) });
      server.io.emit('keyDelivered', 'not an object');
    }
    await new Promise((r) => setTimeout(r, 3000));

    // The attacker, even holding the room secret, opens none of the boxes the relay carried.
    expect(boxes.length).toBeGreaterThan(0);
    expect(attackerOpens(c.secret, c.id, [aId, bId])).toBe(0);
    // Alice sent nothing addressed to "Bob" (the attacker's key).
    expect(boxes.filter((bx) => bx.from === aId && bx.to === bId)).toHaveLength(0);
    // So Bob never decodes Alice: the call fails safe rather than leaking.
    const atBob = await inbound(b.page);
    expect(atBob.filter((s) => s.peerId === aId && s.kind === 'video').reduce((n, s) => n + s.framesDecoded, 0)).toBe(0);
    // And the codes differ (Alice counts Bob out).
    expect((await keyAgreement(a.page)).safetyCode).not.toBe((await keyAgreement(b.page)).safetyCode);

    // Nothing crashed: pages alive, no uncaught errors, server still answers.
    expect(errors).toEqual([]);
    expect(await a.page.evaluate(() => document.title)).toBe('Confide');
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    mode = undefined;
    await a.context.close();
    await b.context.close();
  });

  it('a reveal that does not open its commitment: both pages warn, no key box goes to that key', async () => {
    const { a, b, errors } = await people();
    const c = await TestConsultation.create(server);
    currentRoom = c.id;
    boxes.length = 0;
    mode = { kind: 'bad-reveals' };
    const aId = await c.joinAsDoctor(a.page);
    const bId = await c.joinAsPatient(b.page, 'Bob');

    for (const [page, other, name] of [
      [a.page, bId, 'Bob'],
      [b.page, aId, 'Dr Alice'],
    ] as const) {
      const warning = page.getByTestId('security-warning');
      await warning.waitFor({ timeout: 15_000 });
      expect(await warning.textContent()).toContain(name);
      const ka = await keyAgreement(page);
      expect(ka.warnings).toContainEqual({ peerId: other, reason: 'bad-reveal' });
      expect(ka.verifiedPeers).toEqual([]);
    }
    await new Promise((r) => setTimeout(r, 2000));
    // Not one key box either way: neither page admitted the other.
    expect(boxes.filter((bx) => [aId, bId].includes(bx.from))).toHaveLength(0);
    expect(attackerOpens(c.secret, c.id, [aId, bId])).toBe(0);
    for (const [page, other] of [
      [a.page, bId],
      [b.page, aId],
    ] as const) {
      const got = await inbound(page);
      expect(got.filter((s) => s.peerId === other && s.kind === 'video').reduce((n, s) => n + s.framesDecoded, 0)).toBe(0);
    }
    expect(errors).toEqual([]);
    mode = undefined;
    await a.context.close();
    await b.context.close();
  });

  it('a key round with a member the pages never showed: both pages warn about it, the hidden member is not verified', async () => {
    const { a, b, errors } = await people();
    const c = await TestConsultation.create(server);
    currentRoom = c.id;
    rounds.clear();
    const aId = await c.joinAsDoctor(a.page);
    const bId = await c.joinAsPatient(b.page, 'Bob');
    for (const [page, other] of [
      [a.page, bId],
      [b.page, aId],
    ] as const) {
      await expect.poll(async () => (await keyAgreement(page)).verifiedPeers, { timeout: 15_000 }).toContain(other);
    }

    // The relay, holding the room secret, starts a round with a ghost and commits for it as the room key allows.
    const last = Math.max(...rounds.keys());
    const members = [...rounds.get(last)!.members];
    const ghost = { peerId: '00000000-dead-4bad-8bad-000000000000', slot: Math.max(...members.map((m) => m.slot)) + 1 };
    const info = { round: last + 1, members: [...members, ghost] };
    const ctx = roundContext(c.id, info.round, info.members);
    const commitment = commitTo(ctx, attacker.publicKey, nonceFor(info.round));
    const mac = commitmentMac(deriveRoomAuthKey(c.secret, c.id), c.id, ghost.peerId, ghost.slot, ctx, commitment);
    server.io.emit('keyRound', info);
    server.io.emit('keyCommitted', { peerId: ghost.peerId, round: info.round, commitment: bytesToHex(commitment), mac: bytesToHex(mac) });

    for (const page of [a.page, b.page]) {
      await expect.poll(async () => (await keyAgreement(page)).warnings, { timeout: 10_000 }).toContainEqual({ peerId: ghost.peerId, reason: 'unknown-member' });
      expect((await keyAgreement(page)).verifiedPeers).not.toContain(ghost.peerId);
      expect(await page.getByTestId('security-warning').filter({ hasText: ghost.peerId.slice(0, 8) }).count()).toBe(1);
    }
    expect(boxes.filter((bx) => bx.to === ghost.peerId)).toHaveLength(0);
    expect(errors).toEqual([]);
    await a.context.close();
    await b.context.close();
  });

  it('a member hidden behind a real person (same participantId, one tile): both pages warn, it opens no key box', async () => {
    const { a, b, errors } = await people();
    const c = await TestConsultation.create(server);
    currentRoom = c.id;
    const aId = await c.joinAsDoctor(a.page);
    // The relay's moves, made on the room itself (a malicious server).
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const room = server.rooms.peek(c.id) as any;
    const ghost = { peerId: '00000000-0000-4000-8000-00000000face', slot: 5 };
    const doctorPeer = room.peers.get(aId);
    const notifyDoctor = doctorPeer.notify;
    let injected = false;
    doctorPeer.notify = (event: string, d: Record<string, unknown>) => {
      // Just before the patient's peerJoined: the ghost, as the patient.
      if (event === 'peerJoined' && d.role === 'patient' && !injected) {
        injected = true;
        notifyDoctor('peerJoined', { ...d, ...ghost });
      }
      notifyDoctor(event, d);
    };
    const peerInfos = room.peerInfos.bind(room);
    // In the patient's join answer: the ghost, as the doctor, before the doctor.
    room.peerInfos = () => peerInfos().flatMap((p: { role: string }) => (p.role === 'doctor' ? [{ ...p, ...ghost }, p] : [p]));
    const bId = await c.joinAsPatient(b.page, 'Bob');
    room.peerInfos = peerInfos;
    doctorPeer.notify = notifyDoctor;

    // A full round with the ghost in it, which commits and reveals under the room secret.
    const delivered: Record<string, unknown>[] = [];
    room.peers.set(ghost.peerId, {
      id: ghost.peerId,
      participantId: 'ghost',
      displayName: 'ghost',
      role: 'patient',
      slot: ghost.slot,
      reconnecting: false,
      transports: new Map(),
      producers: new Map(),
      consumers: new Map(),
      notify: (event: string, d: Record<string, unknown>) => event === 'keyDelivered' && delivered.push(d),
      canTakeChat: () => true,
      closeMedia: () => undefined,
      info: () => ({ peerId: ghost.peerId, participantId: 'ghost', displayName: 'ghost', role: 'patient', slot: ghost.slot }),
    });
    try {
      const info = room.startKeyRound();
      const ctx = roundContext(c.id, info.round, info.members);
      const nonce = nonceFor(1000 + info.round);
      const commitment = commitTo(ctx, attacker.publicKey, nonce);
      const mac = commitmentMac(deriveRoomAuthKey(c.secret, c.id), c.id, ghost.peerId, ghost.slot, ctx, commitment);
      room.keyCommit(ghost.peerId, { round: info.round, commitment: bytesToHex(commitment), mac: bytesToHex(mac) });
      await expect.poll(() => room.keyRounds.commits.size, { timeout: 10_000 }).toBe(3);
      room.keyReveal(ghost.peerId, { round: info.round, publicKey: bytesToHex(attacker.publicKey), nonce: bytesToHex(nonce) });

      for (const page of [a.page, b.page]) {
        await expect.poll(async () => (await keyAgreement(page)).warnings, { timeout: 15_000 }).toContainEqual({ peerId: ghost.peerId, reason: 'unknown-member' });
        expect((await keyAgreement(page)).verifiedPeers).not.toContain(ghost.peerId);
      }
      await new Promise((r) => setTimeout(r, 2000));
      // Whatever reached the ghost, it opens none of it.
      const authKey = deriveRoomAuthKey(c.secret, c.id);
      let opened = 0;
      for (const d of delivered) {
        const from = d.from as string;
        const pub = room.keyRounds.reveals.get(from)?.publicKey as string | undefined;
        if (!pub) continue;
        try {
          openKeyBox(pairwiseKey(attacker, hexToBytes(pub), authKey, c.id), { roomId: c.id, from, to: ghost.peerId, kid: d.kid as number }, hexToBytes(d.box as string));
          opened++;
        } catch {
          // expected
        }
      }
      console.log(`[malicious relay] hidden member: ${delivered.length} key boxes addressed to it, ${opened} opened; peers ${aId.slice(0, 8)} ${bId.slice(0, 8)}`);
      expect(opened).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      room.peers.delete(ghost.peerId);
      await a.context.close();
      await b.context.close();
    }
  });
});
