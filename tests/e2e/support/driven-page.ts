// One small page API over both drivers — playwright-core for Chromium,
// puppeteer-core (WebDriver BiDi) for Firefox — so cross-browser tests are
// written once. Elements are found by CSS selectors on data-testids, never
// by layout or by text.
import type { Browser as PwBrowser, Page as PwPage } from 'playwright-core';
import type { Browser as PpBrowser, Page as PpPage } from 'puppeteer-core';

export type Engine = 'chromium' | 'firefox';

export interface DrivenPage {
  readonly engine: Engine;
  /** `path` is relative to the server's URL. */
  goto(path: string): Promise<void>;
  /** Runs `fn(arg)` in the page; `arg` and the result must be serializable. */
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  click(selector: string): Promise<void>;
  fill(selector: string, text: string): Promise<void>;
  waitFor(selector: string, timeoutMs?: number): Promise<void>;
  /** Sets a file (a path on disk) on an <input type=file>. */
  uploadFile(selector: string, file: string): Promise<void>;
}

/** A person: one page in its own browser context (own cookies, storage). */
export interface Person {
  readonly name: string;
  readonly page: DrivenPage;
  setCookie(name: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** Key hooks the page exposes (client/call/test-hooks.ts): set before any page script runs. */
export type KeyHooks = 'observe' | 'manual';

/**
 * Runs before any page script: opts in to the key hooks, and keeps every
 * Blob the page turns into an object URL (window.__blobs), so a test can
 * hash a received file in the page (the CSP forbids fetching blob: URLs).
 */
function instrument(keys: KeyHooks): void {
  if (!window.location.protocol.startsWith('http')) return; // about:blank has no storage
  window.localStorage.setItem('confide.testKeyHooks', keys);
  const blobs = new Map<string, Blob>();
  (window as unknown as { __blobs: Map<string, Blob> }).__blobs = blobs;
  const create = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob | MediaSource) => {
    const url = create(obj);
    if (obj instanceof Blob) blobs.set(url, obj);
    return url;
  };
}

/** A person in a new Chromium context (playwright-core), camera and microphone allowed. */
export async function chromiumPerson(browser: PwBrowser, baseURL: string, name: string, keys: KeyHooks): Promise<Person> {
  const context = await browser.newContext({ baseURL, permissions: ['camera', 'microphone'] });
  await context.addInitScript(instrument, keys);
  const page: PwPage = await context.newPage();
  page.on('pageerror', (err) => console.error(`[chromium ${name}]`, err.message));
  return {
    name,
    page: {
      engine: 'chromium',
      goto: async (p) => void (await page.goto(p)),
      evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
      click: (s) => page.click(s),
      fill: (s, t) => page.fill(s, t),
      waitFor: async (s, timeout = 30_000) => void (await page.waitForSelector(s, { timeout })),
      uploadFile: (s, f) => page.setInputFiles(s, f),
    },
    setCookie: (n, value) => context.addCookies([{ name: n, value, url: baseURL }]),
    close: () => context.close(),
  };
}

/** A person in a new Firefox user context (puppeteer-core, WebDriver BiDi), in a window of its own. */
export async function firefoxPerson(browser: PpBrowser, baseURL: string, name: string, keys: KeyHooks): Promise<Person> {
  const context = await browser.createBrowserContext();
  // A window of its own: a background tab in headless Firefox renders nothing and never looks clickable.
  const page: PpPage = await context.newPage({ type: 'window' });
  await page.evaluateOnNewDocument(instrument, keys);
  page.on('pageerror', (err) => console.error(`[firefox ${name}]`, err instanceof Error ? err.message : err));
  const host = new URL(baseURL).hostname;
  return {
    name,
    page: {
      engine: 'firefox',
      goto: async (p) => void (await page.goto(new URL(p, baseURL).href)),
      evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
      click: (s) => page.locator(s).click(),
      fill: (s, t) => page.locator(s).fill(t),
      waitFor: async (s, timeout = 30_000) => void (await page.waitForSelector(s, { timeout })),
      uploadFile: async (s, f) => {
        const input = await page.waitForSelector(s);
        await (input as unknown as { uploadFile(...paths: string[]): Promise<void> }).uploadFile(f);
      },
    },
    setCookie: (n, value) => context.setCookie({ name: n, value, domain: host, path: '/' }),
    close: () => context.close(),
  };
}
