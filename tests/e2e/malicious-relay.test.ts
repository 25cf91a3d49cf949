// The server as an attacker: it swaps Bob's announced public key for one of its
// own and feeds the pages garbage key messages. Alice must refuse the key,
// warn, and never give the attacker a base key it can open; no page breaks.
import { hexToBytes, bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { ConfideServer } from '../../server/app.ts';
import { launchChromium, newPerson } from './support/browser.ts';
import { startTestServer } from './support/server.ts';
import { enableKeyHooks, inbound } from './support/call.ts';
import { TestConsultation } from './support/consultation.ts';
import { generateKeyPair, openKeyBox, pairwiseKey, verifyAnnouncement } from '../../shared/crypto/key-exchange.ts';
import { deriveRoomAuthKey } from '../../shared/crypto/room-secret.ts';

const attacker = generateKeyPair();
let aliceId: string | undefined; // every announcement but Alice's is swapped
const announced = new Map<string, { publicKey: string; mac: string; slot: number }>(); // as sent by its owner
const boxes: { from: string; to: string; kid: number; box: string }[] = [];

let server: ConfideServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer({}, {
    tamper: (event, to, data) => {
      const d = data as Record<string, unknown>;
      if (event === 'keyAnnounced') {
        announced.set(d.peerId as string, { publicKey: d.publicKey as string, mac: d.mac as string, slot: d.slot as number });
        if (aliceId && d.peerId !== aliceId) {
          // Without the room secret the relay can only keep Bob's MAC or forge one.
          return { ...d, publicKey: bytesToHex(attacker.publicKey) };
        }
      }
      if (event === 'keyDelivered') {
        boxes.push({ from: d.from as string, to, kid: d.kid as number, box: d.box as string });
      }
      return data;
    },
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('malicious relay', () => {
  it('a swapped public key is rejected with a warning and never receives a usable key', async () => {
    const errors: string[] = [];
    const a = await newPerson(browser, server.url);
    const b = await newPerson(browser, server.url);
    for (const p of [a, b]) {
      await enableKeyHooks(p.context, 'observe');
      p.page.on('pageerror', (e) => errors.push(e.message));
    }
    const c = await TestConsultation.create(server);
    const ROOM = c.id;
    const aId = await c.joinAsDoctor(a.page);
    aliceId = aId;
    const bId = await c.joinAsPatient(b.page, 'Bob');

    const warning = a.page.getByTestId('security-warning');
    await warning.waitFor({ timeout: 15_000 });
    expect(await warning.textContent()).toContain('Bob');
    const ka = await a.page.evaluate(() => (window.__confide?.keyAgreement as () => { verifiedPeers: string[]; warnings: unknown[] })());
    expect(ka.verifiedPeers).not.toContain(bId);

    // Garbage key messages straight to both pages: malformed (schema) and well-formed but bogus.
    for (const from of [aId, bId]) {
      server.io.emit('keyDelivered', { from, kid: 1, box: 'zz' });
      server.io.emit('keyDelivered', { from, kid: 1, box: 'ab'.repeat(73) });
      server.io.emit('keyDelivered', { from, kid: 1, box: 'ab'.repeat(100_000) });
      server.io.emit('keyAnnounced', { peerId: from, slot: 99, publicKey: 'x', mac: 1 });
      server.io.emit('keyAnnounced', { peerId: from, slot: 3, publicKey: 'ab'.repeat(32), mac: 'cd'.repeat(32) });
      server.io.emit('keyDelivered', 'not an object');
    }
    await new Promise((r) => setTimeout(r, 3000));

    // The attacker, even holding the room secret, opens none of the boxes the relay carried.
    const authKey = deriveRoomAuthKey(c.secret, ROOM);
    expect(boxes.length).toBeGreaterThan(0);
    let opened = 0;
    for (const bx of boxes) {
      const sender = announced.get(bx.from);
      if (!sender) continue;
      const pw = pairwiseKey(attacker, hexToBytes(sender.publicKey), authKey, ROOM);
      for (const to of [bx.to, bId, aId]) {
        try {
          openKeyBox(pw, { roomId: ROOM, from: bx.from, to, kid: bx.kid }, hexToBytes(bx.box));
          opened++;
        } catch {
          // expected
        }
      }
    }
    expect(opened).toBe(0);
    // Alice sent nothing addressed to "Bob" (the attacker's key).
    expect(boxes.filter((bx) => bx.from === aId && bx.to === bId)).toHaveLength(0);
    // So Bob never decodes Alice: the call fails safe rather than leaking.
    const atBob = await inbound(b.page);
    expect(atBob.filter((s) => s.peerId === aId && s.kind === 'video').reduce((n, s) => n + s.framesDecoded, 0)).toBe(0);

    // The MAC is what tells them apart: Bob's real announcement verifies, the swapped one does not.
    const real = announced.get(bId)!;
    expect(verifyAnnouncement(authKey, ROOM, bId, real.slot, hexToBytes(real.publicKey), hexToBytes(real.mac))).toBe(true);
    expect(verifyAnnouncement(authKey, ROOM, bId, real.slot, attacker.publicKey, hexToBytes(real.mac))).toBe(false);

    // Nothing crashed: pages alive, no uncaught errors, server still answers.
    expect(errors).toEqual([]);
    expect(await a.page.evaluate(() => document.title)).toBe('Confide');
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    await a.context.close();
    await b.context.close();
  });
});
