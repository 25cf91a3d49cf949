// Foundation proof: two real Chromium pages call each other through our own
// mediasoup SFU; video is decoded, audio arrives, the SFU counts bytes, and a
// leave is seen by the other side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ConfideServer } from '../../server/app.ts';
import { launchChromium, newPerson, waitFor } from './support/browser.ts';
import { startTestServer } from './support/server.ts';

interface Inbound {
  peerId: string;
  kind: string;
  framesDecoded: number;
  packetsReceived: number;
  bytesReceived: number;
}

const inbound = (page: Page) =>
  page.evaluate(async () => (await (window.__confide?.inboundStats as () => Promise<unknown>)()) as Inbound[]);

async function joinCall(page: Page, room: string, name: string): Promise<void> {
  await page.goto(`/room/${room}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join call' }).click();
  await page.locator('main[data-state="joined"]').waitFor({ timeout: 30_000 });
}

describe('1:1 call through the SFU', () => {
  let server: ConfideServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('decodes video and receives audio both ways, then shows a leave', async () => {
    const alice = await newPerson(browser, server.url);
    const bob = await newPerson(browser, server.url);
    await joinCall(alice.page, 'foundation', 'Alice');
    await joinCall(bob.page, 'foundation', 'Bob');

    for (const [who, page] of [['alice', alice.page], ['bob', bob.page]] as const) {
      const stats = await waitFor(
        `${who} to decode 60 frames and receive audio`,
        () => inbound(page),
        (s) =>
          s.some((x) => x.kind === 'video' && x.framesDecoded >= 60) &&
          s.some((x) => x.kind === 'audio' && x.packetsReceived > 0),
        45_000,
      );
      const video = stats.find((x) => x.kind === 'video');
      const audio = stats.find((x) => x.kind === 'audio');
      expect(video?.framesDecoded).toBeGreaterThanOrEqual(60);
      expect(audio?.packetsReceived).toBeGreaterThan(0);
      expect(audio?.bytesReceived).toBeGreaterThan(0);
    }

    const room = await server.rooms.get('foundation');
    expect(room).toBeDefined();
    const sfu = await room!.stats();
    expect(sfu.producers).toHaveLength(4); // 2 peers x (audio + video)
    expect(sfu.consumers).toHaveLength(4);
    for (const s of [...sfu.producers, ...sfu.consumers]) expect(s.bytes, `${s.kind} ${s.id}`).toBeGreaterThan(0);

    const bobTile = alice.page.locator('[data-testid^="remote-tile-"]');
    await expect.poll(() => bobTile.count()).toBe(1);
    await bob.page.getByRole('button', { name: 'Leave' }).click();
    await expect.poll(() => bobTile.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(async () => (await room!.stats()).consumers.length, { timeout: 10_000 }).toBe(0);

    await alice.context.close();
    await bob.context.close();
  });
});
