/**
 * Synthetic participants' media for the SFU capacity bench: SFrame-encrypted
 * VP8 and Opus frames, precomputed once (a 2 s loop with a keyframe first)
 * and then replayed, so sending costs a header write and a UDP send, no
 * crypto. Frames are sealed with exactly the browser's code (protectFrame:
 * VP8 keeps its one clear byte, Opus is sealed whole); the receiving side
 * opens samples with unprotectFrame to prove the SFU forwarded them intact.
 */
import { randomBytes } from 'node:crypto';
import { SFrameSender } from '../../shared/crypto/sframe-sender.ts';
import { SFrameReceiver } from '../../shared/crypto/sframe-receiver.ts';
import { protectFrame, unprotectFrame, type FrameKind } from '../../shared/crypto/media-frame.ts';
import { SUITE } from '../../shared/crypto/media-suite.ts';

/** Video: 30 fps, a keyframe every LOOP_S; audio: one 20 ms Opus frame each 20 ms. */
export const VIDEO_FPS = 30;
export const AUDIO_FPS = 50;
export const LOOP_S = 2;
/** RTP payload bytes per video packet (after the 4-byte VP8 descriptor), as browsers keep under ~1200. */
export const MAX_CHUNK = 1150;

export interface MediaRate {
  /** Target video payload rate (bit/s), SFrame overhead included. */
  videoBps: number;
  /** Target audio payload rate (bit/s), SFrame overhead included. */
  audioBps: number;
}
export const DEFAULT_RATE: MediaRate = { videoBps: 600_000, audioBps: 40_000 };

/** One precomputed loop of one participant's sealed frames. */
export interface MediaLoop {
  key: Uint8Array;
  kid: bigint;
  /** Video frames, each split into RTP payload chunks (VP8 descriptor added at send time). */
  video: Uint8Array[][];
  /** Audio frames: one RTP payload each. */
  audio: Uint8Array[];
}

/** A synthetic VP8 frame: byte 0 holds the P bit (0 = keyframe) that mediasoup reads; keyframes carry the start code. */
function vp8Frame(key: boolean, bytes: number): Uint8Array {
  const f = new Uint8Array(randomBytes(bytes));
  f[0] = key ? 0x10 : 0x11;
  if (key) f.set([0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01], 3); // start code, 640×480
  return f;
}

function chunks(frame: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < frame.length; o += MAX_CHUNK) out.push(frame.subarray(o, Math.min(frame.length, o + MAX_CHUNK)));
  return out;
}

/**
 * Seals one loop (LOOP_S seconds) for a fresh random key under `kid`. The
 * keyframe is 5× a delta frame; sizes are chosen so that the sealed frames
 * average `rate` (SFrame header + 16-byte tag included).
 */
export async function makeLoop(kid: bigint, rate: MediaRate = DEFAULT_RATE): Promise<MediaLoop> {
  const key = new Uint8Array(randomBytes(16));
  const sender = new SFrameSender(SUITE);
  await sender.setKey(kid, key);
  const overhead = 20; // ≈ SFrame header (2–4 B) + tag (16 B)
  const nVideo = VIDEO_FPS * LOOP_S;
  const perLoop = (rate.videoBps / 8) * LOOP_S - overhead * nVideo;
  const delta = Math.max(32, Math.round(perLoop / (nVideo - 1 + 5)));
  const video: Uint8Array[][] = [];
  for (let i = 0; i < nVideo; i++) {
    video.push(chunks(await protectFrame(sender, 'video', vp8Frame(i === 0, i === 0 ? 5 * delta : delta))));
  }
  const audioBytes = Math.max(8, Math.round(rate.audioBps / 8 / AUDIO_FPS) - overhead);
  const audio: Uint8Array[] = [];
  for (let i = 0; i < AUDIO_FPS * LOOP_S; i++) audio.push(await protectFrame(sender, 'audio', new Uint8Array(randomBytes(audioBytes))));
  return { key, kid, video, audio };
}

/**
 * Opens one forwarded frame under `loop`'s key: true when its SFrame tag
 * verifies. A fresh receiver each time, since a replayed loop repeats its
 * counters (a long-lived receiver would call them replays).
 */
export async function opens(loop: MediaLoop, kind: FrameKind, frame: Uint8Array): Promise<boolean> {
  const r = new SFrameReceiver(SUITE);
  await r.addKey(loop.kid, loop.key);
  try {
    await unprotectFrame(r, kind, frame);
    return true;
  } catch {
    return false;
  }
}
