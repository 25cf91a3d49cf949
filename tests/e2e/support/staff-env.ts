// One server, one Chromium and a clinic admin account for a staff-side test
// file (console, enrolment, doctor dashboard), and pages in contexts of their
// own that are all closed after the file.
import { afterAll, beforeAll } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ConfideServer } from '../../../server/app.ts';
import type { User } from '../../../server/store/users.ts';
import { launchChromium } from './browser.ts';
import { startTestServer } from './server.ts';
import { filledLater } from './filled-later.ts';

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
  const contexts: BrowserContext[] = [];
  const f: { server?: ConfideServer; browser?: Browser; admin?: User; page?: StaffEnv['page'] } = {
    async page({ locale = 'en-US', session, init } = {}) {
      const { server, browser } = env;
      const context = await browser.newContext({ baseURL: server.url, locale, permissions: ['camera', 'microphone'] });
      contexts.push(context);
      if (init) await context.addInitScript(init);
      if (session) await context.addCookies([{ name: 'confide_session', value: session, url: server.url }]);
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error('[page error]', err.message));
      return page;
    },
  };
  const env = filledLater<StaffEnv>(f, 'staffTestEnv');
  beforeAll(async () => {
    f.server = await startTestServer();
    f.browser = await launchChromium();
    f.admin = await f.server.stores.users.create({ email: 'admin@clinic.test', name: 'Clinic Admin', role: 'admin', password: 'clinic console passphrase' });
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await f.browser?.close();
    await f.server?.close();
  });
  return env;
}
