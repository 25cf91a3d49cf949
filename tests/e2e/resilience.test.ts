// Calls that survive the real world (issue 9), proven with real faults on
// real Chromium pages and a real SFU: a network drop (engine.io connections
// closed, signalling and media blocked by nftables on this server's ports),
// a page taken offline (3 s, then past the grace period), five reloads in ten
// seconds, a server restart on the same port and data, and a SIGKILLed SFU
// worker while another consultation runs on the other worker. Each case
// prints its recovery time: from the end of the fault to video decoding
// again on both sides.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { TestConsultation } from './support/consultation.ts';
import { waitFor } from './support/browser.ts';
import { longestVideoGap, twoWayAfter } from './support/faults.ts';
import { ResilienceRig } from './support/resilience-rig.ts';
import { shot } from './support/artifacts.ts';
import { countMessages, makePdf, received, receivedPdf, sendPdf, sendText, sha256 } from './support/chat.ts';

const rig = new ResilienceRig();
beforeAll(() => rig.start());
afterEach(() => rig.closeCalls());
afterAll(() => rig.stop());

const peerIdOf = (page: Page) =>
  page.evaluate(() => (window.__confide?.session as { snapshot(): { peerId?: string } }).snapshot().peerId);
const safetyCode = (page: Page) => page.getByTestId('safety-code').textContent();
const localKid = (page: Page) =>
  page.evaluate(() => String((window.__confide?.keyAgreement as () => { localKid?: bigint } | undefined)()?.localKid));
const remoteTiles = (page: Page) => page.locator('[data-testid^="remote-tile-"]').count();
const admissions = async (c: TestConsultation) => (await rig.server.stores.audit.list(c.id)).filter((e) => e.event === 'admitted').length;

/** The room holds two people, each with 2 transports and 2 producers, and the SFU nothing more. */
async function expectNoOrphans(c: TestConsultation): Promise<void> {
  await waitFor(
    'no orphan peers, transports, producers or consumers',
    async () => rig.server.rooms.peek(c.id)?.counts(),
    (n) => n?.peers === 2 && n.transports === 4 && n.producers === 4 && n.consumers === 4 && n.sfuTransports === 4,
    10_000,
  );
  expect(rig.server.rooms.peek(c.id)?.reconnectingPeers()).toEqual([]);
  expect(rig.server.consultations.waitingList(c.id)).toEqual([]);
}

function report(label: string, ms: number): void {
  console.log(`[resilience] ${label}: two-way video ${ms} ms after the fault ended`);
}

describe('calls that survive faults', () => {
  it('(a)+(f) a network drop: connections closed, signalling and media blocked 3 s → same participants, same keys, chat delivered once', async () => {
    const call = await rig.call();
    const { c, doctor, patient, close } = call;
    const before = { doctor: await peerIdOf(doctor), patient: await peerIdOf(patient), code: await safetyCode(doctor), kid: await localKid(doctor) };
    await sendText(doctor, 'before the drop');
    await received(patient, 'before the drop');

    const ms = await rig.networkDrop(call, 3000, async () => {
      await doctor.getByTestId('connection-banner').and(doctor.locator('[data-phase="reconnecting"]')).waitFor();
      // The network word agrees with the banner (not a stale "good").
      expect(await doctor.getByTestId('network-hint').getAttribute('data-quality')).toBe('lost');
      // Sent while the network is down, both ways: each must arrive exactly once.
      await sendText(doctor, 'sent during the drop');
      await sendPdf(patient, 'during-drop.pdf', makePdf('drop'));
      // No silent frozen picture: after 2 s without a decoded frame the tile says so.
      await doctor.getByTestId('tile-overlay').waitFor({ timeout: 2900 });
      await shot(doctor, 'reconnecting-doctor-1280x800');
    });
    await doctor.getByTestId('tile-overlay').and(doctor.locator('[data-kind="paused"], [data-kind="reconnecting"]')).waitFor({ state: 'detached', timeout: 10_000 });
    report('(a) network drop 3 s', ms);
    expect(ms).toBeLessThanOrEqual(2000);
    // Shown for RECONNECTED_SHOWN_MS after the recovery: look before the slower checks below.
    await doctor.getByTestId('connection-banner').and(doctor.locator('[data-phase="reconnected"]')).waitFor();

    expect(await peerIdOf(doctor)).toBe(before.doctor);
    expect(await peerIdOf(patient)).toBe(before.patient);
    expect(await safetyCode(doctor)).toBe(before.code);
    expect(await localKid(doctor)).toBe(before.kid); // no rekey: no leave, no join
    await received(patient, 'sent during the drop');
    const pdf = await receivedPdf(doctor, 'during-drop.pdf');
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(await countMessages(patient, 'sent during the drop')).toBe(1);
    expect(await countMessages(doctor, 'during-drop.pdf')).toBe(1);
    await expectNoOrphans(c);
    const events = (await rig.server.stores.audit.list(c.id)).map((e) => e.event);
    expect(events).toContain('reconnected');
    expect(events).not.toContain('rejoined');
    await close();
  });

  it('(b) the patient offline 3 s, then 40 s (past the grace period): back both times, no re-admission, one tile, one peer', async () => {
    const call = await rig.call();
    const { c, doctor, patient, close } = call;
    const ctx = patient.context();
    for (const seconds of [3, 40]) {
      await ctx.setOffline(true);
      if (seconds > 3) {
        // The doctor sees "reconnecting", never a leave, while the patient is away.
        await doctor.getByTestId('tile-overlay').and(doctor.locator('[data-kind="reconnecting"]')).waitFor({ timeout: 20_000 });
        await shot(doctor, 'peer-reconnecting-doctor-1280x800');
      }
      await new Promise((r) => setTimeout(r, seconds * 1000));
      expect(rig.server.consultations.waitingList(c.id)).toEqual([]);
      await ctx.setOffline(false);
      const end = Date.now();
      const ms = await twoWayAfter([doctor, patient], end);
      report(`(b) patient offline ${seconds} s`, ms);
      await waitFor('one patient tile', () => remoteTiles(doctor), (n) => n === 1);
      await expectNoOrphans(c);
      expect(rig.server.rooms.peek(c.id)!.peerInfos().filter((p) => p.role === 'patient')).toHaveLength(1);
      expect(await admissions(c)).toBe(1);
      await expect.poll(() => safetyCode(doctor)).toBe(await safetyCode(patient));
    }
    // The long one was a full rejoin with the credential, not a second admission.
    expect((await rig.server.stores.audit.list(c.id)).map((e) => e.event)).toContain('rejoined');
    await close();
  });

  it('(c) the patient reloads 5 times within 10 s: one tile, one peer, no re-admission, transcript intact', async () => {
    const call = await rig.call();
    const { c, doctor, patient, close } = call;
    await sendText(doctor, 'take two tablets a day');
    const prescription = makePdf('prescription');
    await sendPdf(doctor, 'prescription.pdf', prescription);
    expect(sha256(await receivedPdf(patient, 'prescription.pdf'))).toBe(sha256(prescription));

    // Five reloads, one every 2 s.
    const start = Date.now();
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, Math.max(0, start + i * 2000 - Date.now())));
      await patient.reload({ waitUntil: 'commit' });
    }
    expect(Date.now() - start).toBeLessThan(10_000);
    const end = Date.now();
    const ms = await twoWayAfter([doctor, patient], end);
    report('(c) 5 reloads', ms);
    await waitFor('one patient tile', () => remoteTiles(doctor), (n) => n === 1);
    await expectNoOrphans(c);
    expect(await admissions(c)).toBe(1);
    await patient.getByTestId('waiting-room').waitFor({ state: 'detached' });
    // The transcript survived the reloads: the text and the prescription, byte for byte.
    await received(patient, 'take two tablets a day');
    expect(await countMessages(patient, 'take two tablets a day')).toBe(1);
    expect(sha256(await receivedPdf(patient, 'prescription.pdf'))).toBe(sha256(prescription));
    await expect.poll(() => safetyCode(doctor)).toBe(await safetyCode(patient));
    await close();
  });

  it('(e) SIGKILL of the room\'s SFU worker: server alive, two-way within 5 s, the other consultation never stalls', { timeout: 240_000 }, async () => {
    const a = await rig.call('Zoé');
    const b = await rig.call('Yann');
    console.log(`[resilience] (e) two calls set up in ${a.setupMs} and ${b.setupMs} ms`);
    const roomA = rig.server.rooms.peek(a.c.id)!;
    const roomB = rig.server.rooms.peek(b.c.id)!;
    expect(roomA.workerPid).not.toBe(roomB.workerPid);
    const { victim, recovery } = rig.killWorker(a);
    const gap = await longestVideoGap(b.patient, recovery);
    const ms = await recovery;
    report('(e) worker SIGKILL', ms);
    console.log(`[resilience] (e) the other consultation's longest video gap meanwhile: ${gap} ms`);
    expect(ms).toBeLessThanOrEqual(5000);
    expect(gap).toBeLessThan(1000);
    expect(roomA.workerPid).not.toBe(victim);
    await waitFor('the pool back to 2 workers', async () => rig.server.pool.pids.length, (n) => n === 2);
    await expectNoOrphans(a.c);
    await expectNoOrphans(b.c);
    await a.close();
    await b.close();
  });

  it('(d)+(f) a server restart on the same port and data: two-way within 5 s of it answering; chat sent meanwhile arrives once', async () => {
    const call = await rig.call();
    const { c, doctor, patient, close } = call;
    const file = makePdf('restart');
    const ms = await rig.restartServer(call, async () => {
      // Sent while the server is down: delivered once it is back.
      await sendText(patient, 'sent while the server was down');
      await sendPdf(doctor, 'during-restart.pdf', file);
    });
    report('(d) server restart', ms);
    expect(ms).toBeLessThanOrEqual(5000);
    await expectNoOrphans(c);
    expect(await admissions(c)).toBe(1);
    await received(doctor, 'sent while the server was down');
    expect(sha256(await receivedPdf(patient, 'during-restart.pdf'))).toBe(sha256(file));
    expect(await countMessages(doctor, 'sent while the server was down')).toBe(1);
    expect(await countMessages(patient, 'during-restart.pdf')).toBe(1);
    await expect.poll(() => safetyCode(doctor)).toBe(await safetyCode(patient));
    await close();
  });
});
