// Measures the call screen in a page as a person sees it: boxes clipped to
// the viewport, and the part of a video element its picture really covers
// (object-fit: cover fills the element; contain letterboxes).
import type { Page } from 'playwright-core';

export interface CallLayout {
  viewport: { width: number; height: number };
  /** Share of the viewport (0..1) covered by the first remote camera's visible picture. */
  remoteCover: number;
  remoteWidth: number;
  /** The self view's width, and that width over the remote video's. */
  selfWidth: number;
  selfToRemote: number;
  /** Every pixel of the control bar is inside the viewport. */
  barInside: boolean;
  bar: { top: number; bottom: number; left: number; right: number };
  /** The smallest width and height of a control bar button (touch targets, px). */
  smallestButton: { width: number; height: number };
  /** The document itself does not scroll. */
  scrolls: boolean;
}

export function measureCall(page: Page): Promise<CallLayout> {
  return page.evaluate(() => {
    const vw = window.innerWidth;
    const vh = window.innerHeight;
    const clip = (r: DOMRect) => Math.max(0, Math.min(r.right, vw) - Math.max(r.left, 0)) * Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0));
    /** The rectangle the picture occupies inside a <video> (letterboxing removed for contain). */
    const picture = (v: HTMLVideoElement): DOMRect => {
      const r = v.getBoundingClientRect();
      if (getComputedStyle(v).objectFit !== 'contain' || !v.videoWidth || !v.videoHeight) return r;
      const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
      const w = v.videoWidth * scale;
      const h = v.videoHeight * scale;
      return new DOMRect(r.left + (r.width - w) / 2, r.top + (r.height - h) / 2, w, h);
    };
    const remote = document.querySelector<HTMLVideoElement>('[data-testid^="remote-tile-"] video');
    const remoteRect = remote ? picture(remote) : new DOMRect();
    // The element's own box, cut to its tile (a cropped picture is not seen beyond it).
    const tile = remote?.closest('figure')?.getBoundingClientRect();
    const seen = tile
      ? new DOMRect(
          Math.max(remoteRect.left, tile.left),
          Math.max(remoteRect.top, tile.top),
          Math.max(0, Math.min(remoteRect.right, tile.right) - Math.max(remoteRect.left, tile.left)),
          Math.max(0, Math.min(remoteRect.bottom, tile.bottom) - Math.max(remoteRect.top, tile.top)),
        )
      : remoteRect;
    const self = document.querySelector('[data-testid="local-tile"]')!.getBoundingClientRect();
    const bar = document.querySelector('[data-testid="control-bar"]')!.getBoundingClientRect();
    const buttons = [...document.querySelectorAll('[data-testid="control-bar"] button')].map((b) => b.getBoundingClientRect());
    const root = document.scrollingElement ?? document.documentElement;
    return {
      viewport: { width: vw, height: vh },
      remoteCover: clip(seen) / (vw * vh),
      remoteWidth: seen.width,
      selfWidth: self.width,
      selfToRemote: seen.width ? self.width / seen.width : Infinity,
      barInside: bar.top >= 0 && bar.left >= 0 && bar.bottom <= vh && bar.right <= vw && bar.height > 0,
      bar: { top: bar.top, bottom: bar.bottom, left: bar.left, right: bar.right },
      smallestButton: {
        width: Math.min(...buttons.map((b) => b.width)),
        height: Math.min(...buttons.map((b) => b.height)),
      },
      scrolls: root.scrollHeight > vh + 1 || root.scrollWidth > vw + 1,
    };
  });
}

/** Area (px²) of each visible video on the page, by its tile's data-testid. */
export function videoAreas(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const v of document.querySelectorAll<HTMLVideoElement>('[data-testid] video')) {
      const tile = v.closest('[data-testid]')!;
      const r = tile.getBoundingClientRect();
      if (getComputedStyle(v).visibility === 'hidden') continue;
      out[tile.getAttribute('data-testid')!] = Math.round(r.width * r.height);
    }
    return out;
  });
}
