// The pre-appointment connection check (issue 15), in a network namespace of
// its own with the server's TURN relay, as a patient would run it from the
// invite link: no admission, nothing of the consultation opened. It reports
// each network situation correctly — open (UDP works), UDP to the media port
// dropped (TCP works), UDP and TCP dropped (only the relay works) — each
// path an SFrame-encrypted loopback through the SFU; `npm run check` (the
// ops command, headless Chromium) gives the same verdict.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { newPerson } from './support/browser.ts';
import { inOwnNetwork, TEST_NET_IP } from './support/netns.ts';
import { relayTestEnv } from './support/relay-env.ts';
import { TestConsultation } from './support/consultation.ts';
import { blockMediaPort } from './support/faults.ts';
import { connectSocket, send } from '../support/socket-client.ts';

const MEDIA_PORT = 41600;
const RELAY_PORTS = '61050-61099';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

inOwnNetwork('connection check', import.meta.url, 5 * 60_000, () => {
  const env = relayTestEnv({ mediaPort: MEDIA_PORT, relayPorts: RELAY_PORTS });
  const { cleanup } = env;

  /** Runs the check page for `c`'s patient link; returns each step's state and the verdict. */
  async function runCheck(c: TestConsultation): Promise<{ steps: Record<string, string>; verdict: string }> {
    const { context, page } = await newPerson(env.browser, env.server.url);
    cleanup.push(() => context.close());
    page.on('console', (m) => m.type() === 'warning' && console.log(`[check page] ${m.text()}`));
    await page.goto(`/check/${c.id}#t=${c.patientToken}`);
    await page.getByTestId('check-start').click();
    await page.getByTestId('check-verdict').waitFor({ timeout: 60_000 });
    return readResults(page);
  }

  async function readResults(page: Page): Promise<{ steps: Record<string, string>; verdict: string }> {
    const steps: Record<string, string> = {};
    for (const li of await page.locator('[data-step]').all()) steps[(await li.getAttribute('data-step'))!] = (await li.getAttribute('data-state'))!;
    return { steps, verdict: (await page.getByTestId('check-verdict').getAttribute('data-verdict'))! };
  }

  describe('the pre-appointment connection check', () => {
    it('open network: every path works (npm run check says so too), and nothing of the consultation is touched', async () => {
      const c = await TestConsultation.create(env.server);
      const doctor = await connectSocket(env.server.url, c.doctorSession);
      cleanup.push(() => doctor.disconnect());
      expect((await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' })).ok).toBe(true);
      const waitingSeen: unknown[] = [];
      doctor.on('patientWaiting', (w: unknown) => waitingSeen.push(w));

      const { stdout } = await promisify(execFile)('node', ['--import', 'tsx', 'scripts/check.ts', `${env.server.url}/join/${c.id}#t=${c.patientToken}&k=unused`], {
        cwd: root,
        timeout: 90_000,
      });
      console.log(`[check] npm run check:\n${stdout}`);
      expect(stdout).toMatch(/^ok\s+Video, direct \(UDP\)$/m);
      expect(stdout).toMatch(/^ok\s+Video, direct \(TCP\)$/m);
      expect(stdout).toMatch(/^ok\s+Video through the relay server$/m);
      expect(stdout).toMatch(/^verdict: good/m);

      // No admission, no waiting room, nobody in the consultation's room but the doctor; no check room left.
      expect(waitingSeen).toEqual([]);
      expect(env.server.consultations.waitingList(c.id)).toEqual([]);
      expect(env.server.rooms.peek(c.id)?.peerCount).toBe(1);
      expect((await env.server.stores.audit.list(c.id)).map((e) => e.event)).not.toContain('patient_waiting');
    });

    it('UDP to the media port dropped: UDP fails, TCP works', async () => {
      cleanup.push(blockMediaPort(MEDIA_PORT, ['udp'], RELAY_PORTS));
      const r = await runCheck(await TestConsultation.create(env.server));
      console.log(`[check] UDP blocked: ${JSON.stringify(r)}`);
      expect(r.steps).toMatchObject({ devices: 'ok', encryption: 'ok', signalling: 'ok', udp: 'failed', tcp: 'ok', relay: 'ok' });
      expect(r.verdict).toBe('tcp-only');
    });

    it('UDP and TCP to the media port dropped: only the relay works', async () => {
      cleanup.push(blockMediaPort(MEDIA_PORT, ['udp', 'tcp'], RELAY_PORTS));
      const r = await runCheck(await TestConsultation.create(env.server));
      console.log(`[check] UDP and TCP blocked: ${JSON.stringify(r)}`);
      expect(r.steps).toMatchObject({ signalling: 'ok', udp: 'failed', tcp: 'failed', relay: 'ok' });
      expect(r.verdict).toBe('relay-only');
    });

    it('an ended link says so before the camera is asked for; a patient without a camera still gets the network tested', async () => {
      const ended = await TestConsultation.create(env.server);
      await env.server.consultations.end(ended.id, 'system');
      const { context, page } = await newPerson(env.browser, env.server.url);
      cleanup.push(() => context.close());
      await context.addInitScript(() => {
        const w = window as unknown as { __gum: number };
        w.__gum = 0;
        const media = navigator.mediaDevices;
        const original = media.getUserMedia.bind(media);
        media.getUserMedia = (c) => (w.__gum++, (window as unknown as { __noCamera?: boolean }).__noCamera ? Promise.reject(new DOMException('denied', 'NotAllowedError')) : original(c));
      });
      page.on('console', (m) => m.type() === 'warning' && console.log(`[check page] ${m.text()}`));
      await page.goto(`/check/${ended.id}#t=${ended.patientToken}`);
      await page.getByTestId('check-start').click();
      await page.getByTestId('check-verdict').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('check-verdict').getAttribute('data-verdict')).toBe('link');
      expect(await page.evaluate(() => (window as unknown as { __gum: number }).__gum)).toBe(0);

      // A valid link, the camera refused: the verdict says so, and UDP is tested all the same.
      const c = await TestConsultation.create(env.server);
      await page.evaluate(() => ((window as unknown as { __noCamera: boolean }).__noCamera = true));
      await page.goto(`/check/${c.id}#t=${c.patientToken}`);
      await page.evaluate(() => ((window as unknown as { __noCamera: boolean }).__noCamera = true));
      await page.getByTestId('check-start').click();
      await page.getByTestId('check-verdict').waitFor({ timeout: 60_000 });
      const steps: Record<string, string> = {};
      for (const li of await page.locator('[data-step]').all()) steps[(await li.getAttribute('data-step'))!] = (await li.getAttribute('data-state'))!;
      console.log(`[check] no camera: ${JSON.stringify(steps)}`);
      expect(steps).toMatchObject({ devices: 'failed', signalling: 'ok', udp: 'ok' });
      expect(await page.getByTestId('check-verdict').getAttribute('data-verdict')).toBe('no-devices');
    });

    it('refuses a link that is not valid, and a connection that is already somewhere', async () => {
      const c = await TestConsultation.create(env.server);
      const s = await connectSocket(env.server.url);
      cleanup.push(() => s.disconnect());
      expect((await send(s, 'startCheck', { consultationId: c.id, token: 'x'.repeat(43) })).error?.code).toBe('forbidden');
      expect((await send(s, 'startCheck', { consultationId: c.id, token: c.patientToken, extra: 1 })).error?.code).toBe('bad-request');
      const ok = await send(s, 'startCheck', { consultationId: c.id, token: c.patientToken });
      expect(ok.ok).toBe(true);
      expect((await send(s, 'startCheck', { consultationId: c.id, token: c.patientToken })).error?.code).toBe('already-joined');
      // The check's room is not the consultation's: a transport there is not in the call.
      expect((await send(s, 'createTransport', { direction: 'send' })).ok).toBe(true);
      expect(env.server.rooms.peek(c.id)).toBeUndefined();
      expect((await send(s, 'leave', {})).ok).toBe(true);
    });
  });
});
