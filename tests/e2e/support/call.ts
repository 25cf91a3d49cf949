// Page-level helpers for call tests: join through the UI, read stats, and
// hand out media keys through the test-only key hooks.
import type { BrowserContext, Page } from 'playwright-core';
import type { E2eeStats } from '../../../client/e2ee/worker-messages.ts';
import type { InboundStat } from '../../../client/call/test-hooks.ts';

/**
 * Lets the page expose key hooks (localStorage opt-in; see client/call/test-hooks.ts):
 * 'observe' keeps the real key agreement and logs keys, 'manual' lets the test set keys.
 */
export async function enableKeyHooks(context: BrowserContext, mode: 'observe' | 'manual'): Promise<void> {
  await context.addInitScript((m) => window.localStorage.setItem('confide.testKeyHooks', m), mode);
}

export const inbound = (page: Page): Promise<InboundStat[]> =>
  page.evaluate(() => (window.__confide?.inboundStats as () => Promise<InboundStat[]>)());

export const e2eeStats = (page: Page): Promise<E2eeStats> =>
  page.evaluate(() => (window.__confide?.e2eeStats as () => Promise<E2eeStats>)());

export async function setLocalKey(page: Page, kid: number, key: Uint8Array): Promise<void> {
  await page.evaluate(
    async ([kid, key]) => {
      const keys = window.__confide?.keys as { setLocalKey(k: bigint, b: Uint8Array): Promise<void> };
      await keys.setLocalKey(BigInt(kid), new Uint8Array(key));
    },
    [kid, [...key]] as const,
  );
}

export async function addRemoteKey(page: Page, peerId: string, kid: number, key: Uint8Array): Promise<void> {
  await page.evaluate(
    ([peerId, kid, key]) => {
      const keys = window.__confide?.keys as { addRemoteKey(p: string, k: bigint, b: Uint8Array): void };
      keys.addRemoteKey(peerId, BigInt(kid), new Uint8Array(key));
    },
    [peerId, kid, [...key]] as const,
  );
}

/** Mean absolute deviation of the luma of a remote video drawn to a canvas (0 = flat image). */
export function remoteVideoVariation(page: Page): Promise<number> {
  return page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>('[data-testid^="remote-tile-"] video');
    if (!video || video.videoWidth === 0) return 0;
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 120;
    const ctx = canvas.getContext('2d');
    if (!ctx) return 0;
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const luma: number[] = [];
    for (let i = 0; i < data.length; i += 4) luma.push(0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!);
    const mean = luma.reduce((a, b) => a + b, 0) / luma.length;
    return luma.reduce((a, b) => a + Math.abs(b - mean), 0) / luma.length;
  });
}
