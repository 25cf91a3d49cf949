// Key agreement in real Chromium pages: a newcomer cannot read what was sent
// before it joined, a leaver cannot read what is sent after it left, video
// does not stall across key switches, and all screens show one safety code.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { waitFor } from './support/browser.ts';
import { callTestEnv } from './support/call-env.ts';
import { e2eeStats, inbound } from './support/call.ts';
import { TestConsultation } from './support/consultation.ts';
import { keyLog, tryDecryptFrame, type LoggedKey } from './support/keys.ts';
import { tapProducer } from '../support/sfu-tap.ts';
import { reassembleVp8 } from '../support/rtp.ts';

const env = callTestEnv('observe');
const person = env.person;

/** framesDecoded of every remote video on a page, by peer. */
async function decodedByPeer(page: Page): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await inbound(page)) if (s.kind === 'video') out[s.peerId] = (out[s.peerId] ?? 0) + s.framesDecoded;
  return out;
}

function seesAll(page: Page, peers: string[], frames: number) {
  return waitFor(
    `video and audio from ${peers.length} peers`,
    () => inbound(page),
    (s) =>
      peers.every(
        (p) =>
          s.some((x) => x.peerId === p && x.kind === 'video' && x.framesDecoded >= frames) &&
          s.some((x) => x.peerId === p && x.kind === 'audio' && x.packetsReceived > 0),
      ),
    60_000,
  );
}

const safetyCode = (page: Page) => page.getByTestId('safety-code').textContent();

/** Samples framesDecoded from `peerId` every 100 ms; returns the longest time it did not grow. */
function watchStalls(page: Page, peerId: string) {
  let running = true;
  let longest = 0;
  const done = (async () => {
    let last = -1;
    let since = Date.now();
    while (running) {
      const n = (await decodedByPeer(page))[peerId] ?? 0;
      const now = Date.now();
      if (n > last) {
        if (last >= 0) longest = Math.max(longest, now - since);
        last = n;
        since = now;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    longest = Math.max(longest, Date.now() - since);
  })();
  return async () => {
    running = false;
    await done;
    return longest;
  };
}

describe('key agreement', () => {
  it('join ratchets (newcomer reads nothing older), leave rekeys (leaver reads nothing newer), no stall', async () => {
    const a = await person('Alice');
    const b = await person('Bob');
    const c = await person('Carol');
    const consultation = await TestConsultation.create(env.server);
    const room = consultation.id;
    const aId = await consultation.joinAsDoctor(a.page);
    const bId = await consultation.joinAsPatient(b.page, b.name);
    await seesAll(a.page, [bId], 30);
    await seesAll(b.page, [aId], 30);
    expect(await safetyCode(a.page)).toBe(await safetyCode(b.page));
    const codeAB = await safetyCode(a.page);

    // Capture what Alice sends before Carol exists.
    const sfuRoom = (await env.server.rooms.get(room))!;
    const aliceVideo = () => sfuRoom.producerInfos().find((p) => p.peerId === aId && p.kind === 'video')!.producerId;
    const before = await tapProducer(sfuRoom.router, aliceVideo());
    await new Promise((r) => setTimeout(r, 2000));
    before.stop();

    const cId = await consultation.joinAsPatient(c.page, c.name);
    for (const [page, others] of [
      [a.page, [bId, cId]],
      [b.page, [aId, cId]],
      [c.page, [aId, bId]],
    ] as const) {
      await seesAll(page, [...others], 30);
    }
    await expect.poll(() => safetyCode(c.page)).toBe(await safetyCode(a.page));
    expect(await safetyCode(b.page)).toBe(await safetyCode(a.page));
    expect(await safetyCode(a.page)).not.toBe(codeAB);

    const preJoin = reassembleVp8(before.packets);
    expect(preJoin.length).toBeGreaterThan(30);
    const carolKeys = (await keyLog(c.page)).filter((k) => k.owner !== 'identity');
    const aliceOwn = (await keyLog(a.page)).filter((k) => k.owner === aId);
    expect(carolKeys.length).toBeGreaterThan(0);
    // Control: the capture does decrypt with the key Alice used then.
    expect(await decryptable(preJoin, aliceOwn)).toBe(preJoin.length);
    expect(await decryptable(preJoin, carolKeys)).toBe(0);

    // Carol leaves; watch Alice<->Bob video for stalls and capture Alice after.
    const dropsBefore = [await e2eeStats(a.page), await e2eeStats(b.page)];
    const baselineAB = watchStalls(a.page, bId);
    await new Promise((r) => setTimeout(r, 3000));
    const baseline = await baselineAB();
    const stallAB = watchStalls(a.page, bId);
    const stallBA = watchStalls(b.page, aId);
    await new Promise((r) => setTimeout(r, 500));
    const after = await tapProducer(sfuRoom.router, aliceVideo());
    const leftAt = Date.now();
    await c.page.getByRole('button', { name: 'Leave' }).click();
    await new Promise((r) => setTimeout(r, 3500));
    after.stop();
    const longestAB = await stallAB();
    const longestBA = await stallBA();
    const dropsAfter = [await e2eeStats(a.page), await e2eeStats(b.page)];
    const dropped = (i: number, peer: string) => {
      const x = dropsAfter[i]!.receivers[peer]!;
      const y = dropsBefore[i]!.receivers[peer]!;
      return x.droppedNoKey + x.failedAuth + x.wrongSender - (y.droppedNoKey + y.failedAuth + y.wrongSender);
    };
    console.info(
      `longest gap between decoded frames: ${baseline} ms in 3 s before the leave (sampling + CPU), ` +
        `around the leave Alice<-Bob ${longestAB} ms, Bob<-Alice ${longestBA} ms; ` +
        `frames dropped across the leave: ${dropped(0, bId)} at Alice, ${dropped(1, aId)} at Bob`,
    );
    // Everyone had the new keys before the switch: not one frame may be lost to it.
    expect(dropped(0, bId)).toBe(0);
    expect(dropped(1, aId)).toBe(0);
    expect(longestAB, 'Alice sees Bob without stalls > 0.5 s').toBeLessThanOrEqual(500);
    expect(longestBA, 'Bob sees Alice without stalls > 0.5 s').toBeLessThanOrEqual(500);

    const postLeave = reassembleVp8(after.packets).filter((f) => f.at > leftAt + 1000);
    expect(postLeave.length).toBeGreaterThan(30);
    const carolEver = (await keyLog(c.page)).filter((k) => k.owner !== 'identity');
    expect(await decryptable(postLeave, carolEver)).toBe(0);
    const aliceNow = (await keyLog(a.page)).filter((k) => k.owner === aId);
    expect(await decryptable(postLeave, aliceNow)).toBe(postLeave.length);
    // Back to Alice and Bob with the same identity keys: the transcript, so the code, is theirs again.
    await expect.poll(() => safetyCode(a.page)).toBe(codeAB);
    expect(await safetyCode(b.page)).toBe(codeAB);
  });
});

/** How many frames decrypt under any of `keys` (whatever KID each key was logged under). */
async function decryptable(frames: { data: Uint8Array }[], keys: LoggedKey[]): Promise<number> {
  let n = 0;
  for (const f of frames) if (await tryDecryptFrame('video', f.data, keys)) n++;
  return n;
}
