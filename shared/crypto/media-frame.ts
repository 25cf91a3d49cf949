/**
 * Confide's media frame layout on top of SFrame (docs/protocol.md):
 *
 *   clear codec prefix | SFrame header | ciphertext | tag
 *
 * The prefix is the fewest codec bytes the SFU reads. mediasoup decides
 * "keyframe or not" from bit 0 (P, inverse key frame flag) of the first
 * byte of the VP8 payload (RTC/Codecs/VP8.cpp) and starts a new consumer on
 * a keyframe, so video keeps exactly that one byte clear, on key and delta
 * frames alike. Opus frames are encrypted whole. The prefix is the SFrame
 * metadata, so it is authenticated: flipping the P bit breaks the tag.
 * @module
 */
import { concatBytes } from './bytes.ts';
import { SFrameError } from './sframe.ts';
import type { SFrameReceiver } from './sframe-receiver.ts';
import type { SFrameSender } from './sframe-sender.ts';

export type FrameKind = 'audio' | 'video';

/** Clear bytes kept in front of the SFrame for each kind. */
export const CLEAR_PREFIX: Readonly<Record<FrameKind, number>> = { audio: 0, video: 1 };

/** Encrypts one encoded frame; returns prefix || header || ciphertext || tag. */
export async function protectFrame(sender: SFrameSender, kind: FrameKind, frame: Uint8Array): Promise<Uint8Array> {
  const n = CLEAR_PREFIX[kind];
  // An empty video frame has no byte to keep clear and nothing to hide: refuse
  // it rather than invent a second layout the receiver would have to guess.
  if (frame.length < n || (kind === 'video' && frame.length === 0)) {
    throw new SFrameError('malformed', 'frame shorter than its clear prefix');
  }
  const prefix = frame.subarray(0, n);
  // The prefix is both the AAD's metadata and the first bytes out: written once, no second copy of the frame.
  // (`return await`: V8 settles it in fewer microtasks than returning the promise.)
  return await sender.encrypt(prefix, frame.subarray(n), prefix);
}

/** The SFrame part of a protected frame (after the clear prefix). */
export function sframeOf(kind: FrameKind, data: Uint8Array): { prefix: Uint8Array; sframe: Uint8Array } {
  const n = CLEAR_PREFIX[kind];
  if (data.length <= n) throw new SFrameError('malformed', 'frame has no SFrame after its clear prefix');
  return { prefix: data.subarray(0, n), sframe: data.subarray(n) };
}

/** Authenticates and decrypts one protected frame back to the codec's bytes. */
export async function unprotectFrame(
  receiver: SFrameReceiver,
  kind: FrameKind,
  data: Uint8Array,
): Promise<{ kid: bigint; ctr: bigint; frame: Uint8Array }> {
  const { prefix, sframe } = sframeOf(kind, data);
  const { kid, ctr, plaintext } = await receiver.decrypt(prefix, sframe);
  return { kid, ctr, frame: prefix.length === 0 ? plaintext : concatBytes(prefix, plaintext) };
}
