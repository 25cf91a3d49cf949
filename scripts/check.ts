// `npm run check -- <link>`: the pre-appointment connection check from this
// machine, for operations — the same checks as the page a patient opens
// (client/check/connection-check.ts), run by Debian's headless Chromium with
// a fake camera: signalling, media over UDP, TCP and the TURN relay, each an
// SFrame-encrypted loopback through the SFU. <link> is a patient link
// (/join/<id>#t=…) or a check link (/check/<id>#t=…). Prints each step and
// the verdict; exits 0 when a call would work, 1 when not, 2 on bad usage.
import { chromium } from 'playwright-core';

const USAGE = 'usage: npm run check -- <patient link: https://host/join/<id>#t=…>';
const raw = process.argv[2];
if (!raw) {
  console.error(USAGE);
  process.exit(2);
}
let url: URL;
try {
  url = new URL(raw);
} catch {
  console.error(USAGE);
  process.exit(2);
}
const id = /^\/(?:join|check)\/([a-z0-9]{16})\/?$/.exec(url.pathname)?.[1];
const token = new URLSearchParams(url.hash.replace(/^#/, '')).get('t');
if (!id || !token) {
  console.error(`not a patient link (/join/<id>#t=…): ${url.pathname}\n${USAGE}`);
  process.exit(2);
}
// Only the token goes to the check page: the room secret (k=) is not needed.
const target = `${url.origin}/check/${id}#t=${encodeURIComponent(token)}`;

const browser = await chromium.launch({
  executablePath: process.env.CONFIDE_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  // Chromium's sandbox stays on unless we run as root (where Chromium refuses to start with it).
  args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--disable-gpu', '--lang=en-US'],
});
let code = 1;
try {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'], locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(target);
  await page.getByTestId('check-start').click();
  const verdict = page.getByTestId('check-verdict');
  await verdict.waitFor({ timeout: 90_000 });
  for (const li of await page.locator('[data-step]').all()) {
    console.log(`${(await li.getAttribute('data-state'))!.padEnd(8)} ${(await li.textContent())!.split(':')[0]}`);
  }
  const v = await verdict.getAttribute('data-verdict');
  console.log(`\nverdict: ${v} — ${await verdict.textContent()}`);
  code = v === 'good' || v === 'tcp-only' || v === 'relay-only' ? 0 : 1;
} catch (err) {
  console.error(`the check could not run: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  await browser.close();
}
process.exit(code);
