// One server with its TURN relay (Debian's coturn) on the test address, and
// one Chromium, for a test file that runs inside a network namespace of its
// own (netns.ts) and drops traffic with nftables (faults.ts).
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import type { ConfideServer } from '../../../server/app.ts';
import { launchChromium } from './browser.ts';
import { TEST_NET_IP } from './netns.ts';
import { startTestServer } from './server.ts';
import { filledLater } from './filled-later.ts';

export interface RelayEnvOptions {
  /** The SFU's one media port (UDP and TCP). */
  mediaPort: number;
  /** coturn's relay port range, "first-last": kept clear of the browsers' ephemeral ports. */
  relayPorts: string;
  /** More server settings (called in beforeAll, so it may make files first). */
  env?: () => Record<string, string>;
  /** Extra Chromium flags (called after env). */
  browserArgs?: () => string[];
}

/**
 * Registers the file's hooks; read `server` and `browser` inside tests only.
 * `cleanup`: undo steps (fault rules, contexts) a test pushes; they run in
 * reverse after each test, even when it fails.
 */
export function relayTestEnv(opts: RelayEnvOptions): { readonly server: ConfideServer; readonly browser: Browser; cleanup: (() => unknown)[] } {
  const f: Partial<{ server: ConfideServer; browser: Browser; cleanup: (() => unknown)[] }> = { cleanup: [] };
  beforeAll(async () => {
    f.server = await startTestServer({
      CONFIDE_RTC_LISTEN_IP: TEST_NET_IP,
      CONFIDE_MEDIA_PORT: String(opts.mediaPort),
      CONFIDE_TURN_HOST: TEST_NET_IP,
      CONFIDE_TURN_RELAY_PORTS: opts.relayPorts,
      ...opts.env?.(),
    });
    f.browser = await launchChromium(opts.browserArgs?.() ?? []);
  });
  afterEach(async () => {
    for (const undo of f.cleanup!.splice(0).reverse()) await undo();
  });
  afterAll(async () => {
    await f.browser?.close();
    await f.server?.close();
  });
  return filledLater(f, 'relayTestEnv');
}
