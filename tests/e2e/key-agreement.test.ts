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
import { decodeHeader } from '../../shared/crypto/sframe.ts';
import { sframeOf } from '../../shared/crypto/media-frame.ts';
import { parseKid } from '../../shared/crypto/key-schedule.ts';

const env = callTestEnv('observe');
const person = env.person;

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

/**
 * Samples framesDecoded from `peerId` every 100 ms inside the page (so the
 * test's own round trips do not count); the returned function stops it and
 * gives the longest time the count did not grow.
 */
async function watchStalls(page: Page, peerId: string): Promise<() => Promise<number>> {
  await page.evaluate((peer) => {
    type Stat = { peerId: string; kind: string; framesDecoded: number };
    const w = window as unknown as { __stall?: { samples: [number, number][]; timer: number } };
    const samples: [number, number][] = [];
    const timer = window.setInterval(async () => {
      const stats = await (window.__confide?.inboundStats as () => Promise<Stat[]>)();
      const n = stats.filter((s) => s.peerId === peer && s.kind === 'video').reduce((sum, s) => sum + s.framesDecoded, 0);
      samples.push([performance.now(), n]);
    }, 100);
    w.__stall = { samples, timer };
  }, peerId);
  return () =>
    page.evaluate(() => {
      const w = window as unknown as { __stall: { samples: [number, number][]; timer: number } };
      window.clearInterval(w.__stall.timer);
      let longest = 0;
      let since: number | undefined;
      let last = -1;
      for (const [t, n] of w.__stall.samples) {
        if (n > last) {
          if (since !== undefined) longest = Math.max(longest, t - since);
          since = t;
          last = n;
        }
      }
      const end = w.__stall.samples.at(-1)?.[0];
      if (since !== undefined && end !== undefined) longest = Math.max(longest, end - since);
      return Math.round(longest);
    });
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
    const aliceVideo = () => sfuRoom.media.producerInfos().find((p) => p.peerId === aId && p.kind === 'video')!.producerId;
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
    const codeABC = await safetyCode(a.page);
    expect(codeABC).not.toBe(codeAB);

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
    const baselineAB = await watchStalls(a.page, bId);
    await new Promise((r) => setTimeout(r, 3000));
    const baseline = await baselineAB();
    const stallAB = await watchStalls(a.page, bId);
    const stallBA = await watchStalls(b.page, aId);
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

    // At the SFU: how long after the leave Alice's first frame under her new epoch key went by.
    const aroundLeave = reassembleVp8(after.packets);
    const epochOf = (f: { data: Uint8Array }) => parseKid(decodeHeader(sframeOf('video', f.data).sframe).kid).epoch;
    const oldEpoch = epochOf(aroundLeave[0]!);
    const firstNew = aroundLeave.find((f) => epochOf(f) !== oldEpoch);
    expect(firstNew, 'Alice switched to a new epoch key').toBeDefined();
    console.info(`leave → Alice's first frame under her new key, seen at the SFU: ${firstNew!.at - leftAt} ms`);
    expect(firstNew!.at - leftAt).toBeLessThanOrEqual(1000);

    const postLeave = aroundLeave.filter((f) => f.at > leftAt + 1000);
    expect(postLeave.length).toBeGreaterThan(30);
    const carolEver = (await keyLog(c.page)).filter((k) => k.owner !== 'identity');
    expect(await decryptable(postLeave, carolEver)).toBe(0);
    const aliceNow = (await keyLog(a.page)).filter((k) => k.owner === aId);
    expect(await decryptable(postLeave, aliceNow)).toBe(postLeave.length);
    // Back to Alice and Bob with the same identity keys, in a new key round: one code again, a new one
    // (fresh nonces), neither Carol's nor their first.
    await expect.poll(async () => (await safetyCode(a.page)) === (await safetyCode(b.page))).toBe(true);
    expect(await safetyCode(a.page)).not.toBe(codeAB);
    expect(await safetyCode(a.page)).not.toBe(codeABC);
  });
});

/** How many frames decrypt under any of `keys` (whatever KID each key was logged under). */
async function decryptable(frames: { data: Uint8Array }[], keys: LoggedKey[]): Promise<number> {
  let n = 0;
  for (const f of frames) if (await tryDecryptFrame('video', f.data, keys)) n++;
  return n;
}
