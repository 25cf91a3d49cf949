// What a cross-browser call test checks, written once over DrivenPage:
// joining through the UI, media and E2EE stats, safety codes, chat and files
// (hashed in the receiving page), and the SFU tap proving a participant's
// frames are SFrame ciphertext under the keys its page agreed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hexToBytes } from '@noble/hashes/utils.js';
import type { E2eeStats } from '../../../client/e2ee/worker-messages.ts';
import type { InboundStat } from '../../../client/call/test-hooks.ts';
import type { KeyLogEntry } from '../../../client/e2ee/key-agreement-client.ts';
import type { Room } from '../../../server/rooms/room.ts';
import { decodeHeader } from '../../../shared/crypto/sframe.ts';
import { SFrameReceiver } from '../../../shared/crypto/sframe-receiver.ts';
import { sframeOf, unprotectFrame, type FrameKind } from '../../../shared/crypto/media-frame.ts';
import { SUITE } from '../../../shared/crypto/media-suite.ts';
import { tapProducer } from '../../support/sfu-tap.ts';
import { reassembleVp8 } from '../../support/rtp.ts';
import { writeIvf } from '../../support/ivf.ts';
import { decodeIvf } from '../../support/ffmpeg.ts';
import { makePdf, sha256 } from './chat.ts';
import { waitFor } from './browser.ts';
import type { TestConsultation } from './consultation.ts';
import type { DrivenPage, Person } from './driven-page.ts';

const tid = (id: string) => `[data-testid="${id}"]`;

/** Waits until the page is in the call; returns its peer id. */
async function joined(page: DrivenPage): Promise<string> {
  await page.waitFor('main[data-state="joined"]', 30_000);
  return page.evaluate(() => {
    const session = window.__confide?.session as { snapshot(): { peerId?: string } } | undefined;
    const id = session?.snapshot().peerId;
    if (!id) throw new Error('not joined');
    return id;
  }, undefined);
}

/** Opens the doctor link signed in, passes the device check, and waits until in the call. */
export async function joinAsDoctor(c: TestConsultation, doctor: Person): Promise<string> {
  await doctor.setCookie('confide_session', c.doctorSession);
  await doctor.page.goto(c.doctorLink);
  await doctor.page.click(tid('device-continue'));
  return joined(doctor.page);
}

/** Opens the patient link, passes the device check, waits, and is admitted (server-side). */
export async function joinAsPatient(c: TestConsultation, patient: Person): Promise<string> {
  await patient.page.goto(c.patientLink);
  await patient.page.fill(tid('patient-name'), patient.name);
  await patient.page.click(tid('device-continue'));
  await patient.page.waitFor(tid('waiting-room'));
  const entry = await waitFor(
    `${patient.name} in the waiting room`,
    async () => c.server.consultations.waitingList(c.id).find((w) => w.displayName === patient.name),
    (w) => w !== undefined,
  );
  await c.server.consultations.admit(c.doctor, c.id, entry!.requestId);
  return joined(patient.page);
}

export const inbound = (page: DrivenPage): Promise<InboundStat[]> =>
  page.evaluate(() => (window.__confide?.inboundStats as () => Promise<InboundStat[]>)(), undefined);

export const e2eeStats = (page: DrivenPage): Promise<E2eeStats> =>
  page.evaluate(() => (window.__confide?.e2eeStats as () => Promise<E2eeStats>)(), undefined);

export const keyLog = (page: DrivenPage): Promise<KeyLogEntry[]> =>
  page.evaluate(() => (window.__confide?.keyLog as () => KeyLogEntry[] | undefined)() ?? [], undefined);

export const safetyCode = (page: DrivenPage): Promise<string> =>
  page.evaluate(() => document.querySelector('[data-testid="safety-code"]')?.textContent?.trim() ?? '', undefined);

/** Waits until `page` decoded `frames` video frames and got `audioPackets` audio packets from `peerId`. */
export function seesAndHears(page: DrivenPage, peerId: string, frames = 60, audioPackets = 50): Promise<InboundStat[]> {
  return waitFor(
    `${frames} frames and audio from ${peerId}`,
    () => inbound(page),
    (s) =>
      s.some((x) => x.peerId === peerId && x.kind === 'video' && x.framesDecoded >= frames) &&
      s.some((x) => x.peerId === peerId && x.kind === 'audio' && x.packetsReceived >= audioPackets),
    60_000,
  );
}

/**
 * How much picture the first remote camera video holds: the mean absolute
 * deviation of its luma (Chromium's fake camera draws a moving pattern) and
 * its chroma, the spread of its mean R, G, B (Firefox's fake camera is one
 * bright colour that drifts). Both ~0 for black or grey.
 */
export function remotePicture(page: DrivenPage): Promise<{ variation: number; chroma: number }> {
  return page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>('[data-testid^="remote-tile-"] video');
    const ctx = document.createElement('canvas').getContext('2d', { willReadFrequently: true });
    if (!video || video.videoWidth === 0 || !ctx) return { variation: 0, chroma: 0 };
    ctx.canvas.width = 160;
    ctx.canvas.height = 120;
    ctx.drawImage(video, 0, 0, 160, 120);
    const { data } = ctx.getImageData(0, 0, 160, 120);
    const n = data.length / 4;
    const rgb = [0, 0, 0];
    const luma: number[] = [];
    for (let i = 0; i < data.length; i += 4) {
      rgb[0]! += data[i]!;
      rgb[1]! += data[i + 1]!;
      rgb[2]! += data[i + 2]!;
      luma.push(0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!);
    }
    const mean = luma.reduce((a, y) => a + y, 0) / n;
    const means = rgb.map((c) => c / n);
    return { variation: luma.reduce((a, y) => a + Math.abs(y - mean), 0) / n, chroma: Math.max(...means) - Math.min(...means) };
  }, undefined);
}

// --- chat ---------------------------------------------------------------------

/** Opens the chat panel if the call screen keeps it closed. */
export async function openChat(page: DrivenPage): Promise<void> {
  const open = await page.evaluate(() => {
    const input = document.querySelector('[data-testid="chat-input"]');
    if (input && input.getClientRects().length > 0) return true;
    const toggle = document.querySelector<HTMLElement>('[data-testid="chat-toggle"]');
    toggle?.click();
    return false;
  }, undefined);
  if (!open) await page.waitFor(tid('chat-input'));
}

export async function sendText(page: DrivenPage, text: string): Promise<void> {
  await openChat(page);
  await page.fill(tid('chat-input'), text);
  await page.click(tid('chat-send'));
}

/** Waits for a received chat message containing `text`. */
export async function received(page: DrivenPage, text: string, timeoutMs = 60_000): Promise<void> {
  await openChat(page);
  await waitFor(
    `"${text}" received`,
    () =>
      page.evaluate(
        (t) =>
          [...document.querySelectorAll('[data-testid="chat-message"][data-status="received"]')].some((m) => m.textContent?.includes(t)),
        text,
      ),
    (ok) => ok,
    timeoutMs,
  );
}

// Files to upload stay on disk until the process ends: the browser reads a chosen file lazily.
let uploads: string | undefined;
function uploadDir(): string {
  if (!uploads) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-upload-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    uploads = dir;
  }
  return uploads;
}

/** Sends a fresh random PDF of `bytes` through the chat; returns its SHA-256 (hex). */
export async function sendPdf(page: DrivenPage, name: string, bytes = 256 * 1024): Promise<string> {
  const pdf = makePdf(name, bytes);
  const file = path.join(fs.mkdtempSync(path.join(uploadDir(), 'f-')), name);
  fs.writeFileSync(file, pdf);
  await openChat(page);
  await page.uploadFile(tid('chat-file-input'), file);
  return sha256(pdf);
}

/** Waits for the received file `name` and returns the SHA-256 (hex) of what the page would save. */
export async function receivedFileSha256(page: DrivenPage, name: string): Promise<string> {
  await received(page, name);
  return waitFor(
    `${name} ready to save`,
    () =>
      page.evaluate(async (n) => {
        const message = [...document.querySelectorAll('[data-testid="chat-message"][data-status="received"]')].find((m) =>
          m.textContent?.includes(n),
        );
        const link = message?.querySelector<HTMLAnchorElement>('[data-testid="chat-download"]');
        const blob = link ? (window as unknown as { __blobs: Map<string, Blob> }).__blobs.get(link.href) : undefined;
        if (!blob) return '';
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
        return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
      }, name),
    (h) => h !== '',
  );
}

// --- the SFU tap ------------------------------------------------------------------

async function decryptWith(kind: FrameKind, data: Uint8Array, keys: KeyLogEntry[]): Promise<Uint8Array | undefined> {
  const kid = decodeHeader(sframeOf(kind, data).sframe).kid;
  for (const k of keys) {
    const receiver = new SFrameReceiver(SUITE);
    await receiver.addKey(kid, hexToBytes(k.key));
    try {
      return (await unprotectFrame(receiver, kind, data)).frame;
    } catch {
      // not this key
    }
  }
  return undefined;
}

export interface TapProof {
  videoFrames: number;
  audioPackets: number;
  /** Frames (packets) whose SFrame header names a KID the sender's page held. */
  ownKid: { video: number; audio: number };
  /** Frames (packets) that authenticate and decrypt under the sender's own keys. */
  decrypted: { video: number; audio: number };
  /** Frame sizes ffmpeg decodes from the capture as relayed, and once decrypted. */
  asRelayed: string[];
  asDecrypted: string[];
}

/**
 * Taps `peerId`'s producers on the SFU for `ms` — its camera (or screen) and,
 * for the camera, its microphone — then tries every captured frame against
 * the keys `senderPage` logged as its own (test-only 'observe' hook), and
 * hands both versions of the video to ffmpeg.
 */
export async function tapAndDecrypt(
  room: Room,
  peerId: string,
  senderPage: DrivenPage,
  { ms = 3000, video = 'camera' }: { ms?: number; video?: 'camera' | 'screen' } = {},
): Promise<TapProof> {
  const mine = room.media.producerInfos().filter((p) => p.peerId === peerId);
  const videoTap = await tapProducer(room.router, mine.find((p) => p.source === video)!.producerId);
  const audioTap = video === 'camera' ? await tapProducer(room.router, mine.find((p) => p.source === 'mic')!.producerId) : undefined;
  await new Promise((r) => setTimeout(r, ms));
  videoTap.stop();
  audioTap?.stop();
  const keys = (await keyLog(senderPage)).filter((k) => k.owner === peerId);
  const kids = new Set(keys.map((k) => BigInt(k.kid)));
  const frames = reassembleVp8(videoTap.packets).map((f) => f.data);
  const audio = audioTap?.packets ?? [];
  const proof: TapProof = {
    videoFrames: frames.length,
    audioPackets: audio.length,
    ownKid: { video: 0, audio: 0 },
    decrypted: { video: 0, audio: 0 },
    asRelayed: decodeIvf(writeIvf(frames, 640, 480)).frameSizes,
    asDecrypted: [],
  };
  const clear: Uint8Array[] = [];
  for (const f of frames) {
    if (kids.has(decodeHeader(sframeOf('video', f).sframe).kid)) proof.ownKid.video++;
    const c = await decryptWith('video', f, keys);
    if (c) clear.push(c);
  }
  proof.decrypted.video = clear.length;
  proof.asDecrypted = decodeIvf(writeIvf(clear, 640, 480)).frameSizes;
  for (const p of audio) {
    if (kids.has(decodeHeader(p.payload).kid)) proof.ownKid.audio++;
    if (await decryptWith('audio', p.payload, keys)) proof.decrypted.audio++;
  }
  return proof;
}
