// Two browser engines in real E2EE calls: Chromium ↔ Firefox and Firefox ↔
// Firefox (media both ways, one safety code, chat and files byte for byte,
// and the SFU tap proving Firefox's frames are SFrame ciphertext); Firefox
// failing closed without keys; and a browser that cannot encrypt frames
// told so before the device check.
//
// Firefox gathers no loopback ICE candidates, so this file runs itself again
// inside a network namespace of its own (support/netns.ts), where the
// server, its SFU and both browsers share a test address.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser as Chromium } from 'playwright-core';
import type { Browser as Firefox } from 'puppeteer-core';
import type { ConfideServer } from '../../server/app.ts';
import { launchChromium, newPerson, waitFor } from './support/browser.ts';
import { launchFirefox } from './support/firefox.ts';
import { inOwnNetwork, TEST_NET_IP } from './support/netns.ts';
import { startTestServer } from './support/server.ts';
import { TestConsultation } from './support/consultation.ts';
import { chromiumPerson, firefoxPerson, type Engine, type KeyHooks, type Person } from './support/driven-page.ts';
import {
  e2eeStats,
  inbound,
  joinAsDoctor,
  joinAsPatient,
  received,
  receivedFileSha256,
  remotePicture,
  safetyCode,
  seesAndHears,
  sendPdf,
  sendText,
  tapAndDecrypt,
  type TapProof,
} from './support/cross-call.ts';

inOwnNetwork('two browser engines', import.meta.url, 14 * 60_000, () => {
  let server: ConfideServer;
  let chromium: Chromium;
  let firefox: Firefox;
  /** Everyone (and any raw browser context) a test opened, closed after it even when it fails. */
  const opened: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    server = await startTestServer({ CONFIDE_RTC_LISTEN_IP: TEST_NET_IP });
    [chromium, firefox] = await Promise.all([launchChromium(), launchFirefox()]);
  });
  afterAll(async () => {
    await Promise.allSettled([chromium?.close(), firefox?.close()]);
    await server?.close();
  });
  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((p) => p.close()));
  });

  async function person(engine: Engine, name: string, keys: KeyHooks = 'observe'): Promise<Person> {
    const p =
      engine === 'firefox' ? await firefoxPerson(firefox, server.url, name, keys) : await chromiumPerson(chromium, server.url, name, keys);
    opened.push(p);
    return p;
  }

  /** The SFU relayed only ciphertext of the sender's own keys, which ffmpeg decodes once decrypted only. */
  function expectCiphertext(proof: TapProof, { audio }: { audio: boolean }) {
    expect(proof.videoFrames).toBeGreaterThanOrEqual(30);
    expect(proof.ownKid.video).toBe(proof.videoFrames);
    expect(proof.decrypted.video).toBe(proof.videoFrames);
    expect(proof.asDecrypted.length).toBeGreaterThanOrEqual(proof.videoFrames - 2);
    // Real pictures; a loaded machine may make the sender step its resolution down once or twice.
    const sizes = new Set(proof.asDecrypted);
    expect(sizes.size).toBeGreaterThanOrEqual(1);
    expect(sizes.size).toBeLessThanOrEqual(3);
    for (const size of sizes) expect(size).toMatch(/^\d+x\d+$/);
    expect(proof.asRelayed.filter((s) => sizes.has(s))).toHaveLength(0);
    if (audio) {
      expect(proof.audioPackets).toBeGreaterThan(100);
      expect(proof.ownKid.audio).toBe(proof.audioPackets);
      expect(proof.decrypted.audio).toBe(proof.audioPackets);
    }
  }

  /**
   * A whole consultation between two people: video (≥ 60 frames) and audio
   * both ways, one safety code, no failed frame, the SFU tap on `tapped`,
   * a message and a PDF each way.
   */
  async function consultation(doctor: Person, patient: Person, tapped: 'doctor' | 'patient') {
    const c = await TestConsultation.create(server);
    const doctorId = await joinAsDoctor(c, doctor);
    const patientId = await joinAsPatient(c, patient);
    await seesAndHears(doctor.page, patientId);
    await seesAndHears(patient.page, doctorId);
    for (const p of [doctor, patient]) {
      // Black or grey scores ~0 on both; the fake cameras score well above.
      await waitFor(`${p.name} sees a picture`, () => remotePicture(p.page), (v) => v.variation > 2 || v.chroma > 40);
    }

    const code = await safetyCode(doctor.page);
    expect(code).toMatch(/\d/);
    expect(await safetyCode(patient.page)).toBe(code);
    for (const [p, from] of [
      [doctor, patientId],
      [patient, doctorId],
    ] as const) {
      const s = await e2eeStats(p.page);
      expect(s.sender.encrypted, `${p.name} encrypts`).toBeGreaterThan(100);
      const r = s.receivers[from]!;
      expect(r.decrypted, `${p.name} decrypts`).toBeGreaterThan(100);
      expect(r.failedAuth + r.malformed + r.wrongSender + r.replayed).toBe(0);
    }

    const room = (await server.rooms.get(c.id))!;
    const [tapId, sender] = tapped === 'doctor' ? [doctorId, doctor] : [patientId, patient];
    expectCiphertext(await tapAndDecrypt(room, tapId, sender.page), { audio: true });

    await sendText(doctor.page, `Hello ${patient.name}`);
    await received(patient.page, `Hello ${patient.name}`);
    await sendText(patient.page, `Hello ${doctor.name}`);
    await received(doctor.page, `Hello ${doctor.name}`);
    const toPatient = await sendPdf(doctor.page, 'prescription.pdf');
    expect(await receivedFileSha256(patient.page, 'prescription.pdf')).toBe(toPatient);
    const toDoctor = await sendPdf(patient.page, 'blood-test.pdf');
    expect(await receivedFileSha256(doctor.page, 'blood-test.pdf')).toBe(toDoctor);
    return { c, room, doctorId, patientId };
  }

  describe('Firefox in end-to-end encrypted calls', () => {
    it('Chromium doctor ↔ Firefox patient: media both ways, one safety code, chat and files; Firefox sends only ciphertext', async () => {
      await consultation(await person('chromium', 'Dr Chromium'), await person('firefox', 'Firefox Patient'), 'patient');
    });

    it('Firefox ↔ Firefox: the same, and a shared screen is encrypted too', async () => {
      const doctor = await person('firefox', 'Dr Firefox');
      const patient = await person('firefox', 'Patient Firefox');
      const { room, doctorId } = await consultation(doctor, patient, 'doctor');

      // Headless Firefox has no screen to capture (getDisplayMedia: NotFoundError),
      // so a canvas stands for it; it goes through the same screen-share path.
      await doctor.page.evaluate(async () => {
        const canvas = document.createElement('canvas');
        canvas.width = 640;
        canvas.height = 360;
        const ctx = canvas.getContext('2d')!;
        let n = 0;
        window.setInterval(() => {
          n++;
          ctx.fillStyle = `hsl(${(n * 7) % 360} 70% 50%)`;
          ctx.fillRect(0, 0, 640, 360);
          ctx.fillStyle = '#fff';
          ctx.fillRect((n * 5) % 600, 150, 40, 60);
        }, 33);
        const track = canvas.captureStream(30).getVideoTracks()[0]!;
        await (window.__confide?.session as { startScreenShare(t: MediaStreamTrack): Promise<void> }).startScreenShare(track);
      }, undefined);
      await patient.page.waitFor(`[data-testid="screen-tile-${doctorId}"]`);
      await waitFor(
        'the shared screen to decode',
        () => inbound(patient.page),
        (s) => s.filter((x) => x.peerId === doctorId && x.kind === 'video' && x.framesDecoded >= 30).length === 2,
        45_000,
      );
      expectCiphertext(await tapAndDecrypt(room, doctorId, doctor.page, { video: 'screen', ms: 2000 }), { audio: false });
    });

    it('fails closed in Firefox: without keys nothing reaches the SFU; once keyed, the call works', async () => {
      const doctor = await person('firefox', 'Dr Nokey', 'manual');
      const patient = await person('chromium', 'Patient Nokey', 'manual');
      const c = await TestConsultation.create(server);
      const doctorId = await joinAsDoctor(c, doctor);
      const patientId = await joinAsPatient(c, patient);
      await waitFor('Firefox to drop frames for lack of a key', () => e2eeStats(doctor.page), (s) => s.sender.droppedNoKey > 60);
      const room = (await server.rooms.get(c.id))!;
      for (const p of (await room.stats()).producers) expect(p.bytes, `${p.kind} producer of ${p.peerId}`).toBe(0);
      const sent = await doctor.page.evaluate(async () => {
        let packets = 0;
        const reports = await (window.__confide?.session as { transportStats(): Promise<RTCStatsReport[]> }).transportStats();
        for (const r of reports) r.forEach((s: { type: string; packetsSent?: number }) => void (s.type === 'outbound-rtp' && (packets += s.packetsSent ?? 0)));
        return packets;
      }, undefined);
      expect(sent, 'RTP packets Firefox sent').toBe(0);

      // Same call, keys set by the test: now frames flow and decrypt.
      const setKeys = (p: Person, own: number, peer: string, peerKid: number) =>
        p.page.evaluate(
          async ([own, peer, peerKid]) => {
            const keys = window.__confide?.keys as {
              setLocalKey(k: bigint, b: Uint8Array): Promise<void>;
              addRemoteKey(p: string, k: bigint, b: Uint8Array): Promise<void>;
            };
            await keys.addRemoteKey(peer, BigInt(peerKid), new Uint8Array(32).fill(peerKid));
            await keys.setLocalKey(BigInt(own), new Uint8Array(32).fill(own));
          },
          [own, peer, peerKid] as const,
        );
      await setKeys(doctor, 5, patientId, 6);
      await setKeys(patient, 6, doctorId, 5);
      await seesAndHears(doctor.page, patientId, 30, 20);
      await seesAndHears(patient.page, doctorId, 30, 20);
    });
  });

  describe('browser support', () => {
    it('a browser that cannot encrypt frames is told so before the device check, and never calls', async () => {
      const c = await TestConsultation.create(server);
      const { context, page } = await newPerson(chromium, server.url);
      opened.push(context);
      await context.addInitScript(() => {
        const w = window as unknown as Record<string, unknown> & { __gum: number };
        delete w.RTCRtpScriptTransform;
        delete (RTCRtpSender.prototype as unknown as Record<string, unknown>).createEncodedStreams;
        delete (RTCRtpReceiver.prototype as unknown as Record<string, unknown>).createEncodedStreams;
        w.__gum = 0;
        const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
        navigator.mediaDevices.getUserMedia = (constraints) => {
          w.__gum++;
          return gum(constraints);
        };
      });
      await page.goto(c.patientLink);
      // The link is checked first (with whom, when), then the browser instead of the devices.
      await page.getByTestId('link-with').waitFor();
      await page.getByTestId('browser-unsupported').waitFor();
      expect(await page.getByTestId('browser-unsupported').textContent()).toContain('cannot make encrypted calls');
      expect(await page.getByTestId('device-check').count()).toBe(0);

      await context.addCookies([{ name: 'confide_session', value: c.doctorSession, url: server.url }]);
      await page.goto(c.doctorLink);
      await page.getByTestId('browser-unsupported').waitFor();
      expect(await page.getByTestId('device-check').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { __gum: number }).__gum), 'getUserMedia calls').toBe(0);
      expect(server.consultations.waitingList(c.id)).toHaveLength(0);
      expect(await server.rooms.get(c.id)).toBeUndefined();
    });
  });
});
