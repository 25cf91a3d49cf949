// One server, one Chromium and a clinic admin account for a staff-side test
// file (console, enrolment, doctor dashboard), and pages in contexts of their
// own that are all closed after the file.
import { afterAll, beforeAll } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ConfideServer } from '../../../server/app.ts';
import type { User } from '../../../server/store/users.ts';
import { launchChromium } from './browser.ts';
import { startTestServer } from './server.ts';

export interface StaffEnv {
  readonly server: ConfideServer;
  readonly browser: Browser;
  readonly admin: User;
  /**
   * A page in a new context (own cookies and storage) in `locale`, signed in
   * with `session` (a confide_session cookie value) when given; page errors
   * are printed. `init` runs in the context before any page script.
   */
  page(opts?: { locale?: string; session?: string; init?: () => void }): Promise<Page>;
}

/** Registers the file's beforeAll/afterAll; read the fields inside tests only. */
export function staffTestEnv(): StaffEnv {
  let server: ConfideServer | undefined;
  let browser: Browser | undefined;
  let admin: User | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    admin = await server.stores.users.create({ email: 'admin@clinic.test', name: 'Clinic Admin', role: 'admin', password: 'clinic console passphrase' });
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
  });
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('staffTestEnv used outside a test');
    return v;
  };
  return {
    get server() {
      return need(server);
    },
    get browser() {
      return need(browser);
    },
    get admin() {
      return need(admin);
    },
    async page({ locale = 'en-US', session, init } = {}) {
      const url = need(server).url;
      const context = await need(browser).newContext({ baseURL: url, locale, permissions: ['camera', 'microphone'] });
      contexts.push(context);
      if (init) await context.addInitScript(init);
      if (session) await context.addCookies([{ name: 'confide_session', value: session, url }]);
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error('[page error]', err.message));
      return page;
    },
  };
}
