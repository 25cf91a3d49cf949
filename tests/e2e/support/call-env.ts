// One server and one Chromium for a test file, and people (pages in their own
// browser contexts) with the chosen test key hooks.
import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import type { ConfideServer, StartOptions } from '../../../server/app.ts';
import { launchChromium, newPerson } from './browser.ts';
import { startTestServer } from './server.ts';
import { enableKeyHooks } from './call.ts';

export function callTestEnv(mode: 'observe' | 'manual', opts: StartOptions = {}) {
  const env = { server: undefined as unknown as ConfideServer, browser: undefined as unknown as Browser };
  beforeAll(async () => {
    env.server = await startTestServer({}, opts);
    env.browser = await launchChromium();
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return {
    get server() {
      return env.server;
    },
    get browser() {
      return env.browser;
    },
    async person(name: string) {
      const p = await newPerson(env.browser, env.server.url);
      await enableKeyHooks(p.context, mode);
      return { ...p, name };
    },
  };
}
