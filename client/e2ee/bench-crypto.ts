/**
 * Bench only (`__CONFIDE_BENCH__`, dist/client-bench and Node): times
 * protectFrame/unprotectFrame per frame with exactly the code the frame
 * Worker runs, so `npm run bench` can put the Worker's own figures beside
 * Node's. Uses WebCrypto and performance.now, which both Worker and Node have.
 */
import { SFrameSender } from '../../shared/crypto/sframe-sender.ts';
import { SFrameReceiver } from '../../shared/crypto/sframe-receiver.ts';
import { protectFrame, unprotectFrame } from '../../shared/crypto/media-frame.ts';
import { SUITE } from '../../shared/crypto/media-suite.ts';

/** Frames per timed batch: a Worker's performance.now() ticks in 100 µs steps (no cross-origin isolation). */
export const BATCH = 20;

export interface CryptoTiming {
  bytes: number;
  iters: number;
  /**
   * Per frame (ms), over batches of BATCH frames each awaited in turn:
   * median and 95th percentile of the batch means, for encrypt (protectFrame)
   * and decrypt (unprotectFrame).
   */
  encryptMedianMs: number;
  encryptP95Ms: number;
  decryptMedianMs: number;
  decryptP95Ms: number;
}

/** Random bytes of any length (getRandomValues gives at most 64 KiB per call). */
function randomFrame(bytes: number): Uint8Array {
  const out = new Uint8Array(Math.max(1, bytes));
  for (let o = 0; o < out.length; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(out.length, o + 65536)));
  return out;
}

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

/**
 * For each frame size (bytes), `iters` video frames (rounded up to whole
 * batches) encrypted one at a time, then decrypted one at a time, after a
 * quarter as many warm-up frames. A fresh key per size; the replay window
 * (1024) holds a batch easily.
 */
export async function timeFrameCrypto(sizes: number[], iters: number): Promise<CryptoTiming[]> {
  const out: CryptoTiming[] = [];
  for (const bytes of sizes) {
    const key = crypto.getRandomValues(new Uint8Array(16));
    const sender = new SFrameSender(SUITE);
    const receiver = new SFrameReceiver(SUITE);
    await sender.setKey(9n, key);
    await receiver.addKey(9n, key);
    const frame = randomFrame(bytes);
    const enc: number[] = [];
    const dec: number[] = [];
    const batches = Math.max(1, Math.ceil(iters / BATCH));
    const warm = Math.ceil(batches / 4);
    const sealed: Uint8Array[] = new Array<Uint8Array>(BATCH);
    for (let b = 0; b < warm + batches; b++) {
      const t0 = performance.now();
      for (let i = 0; i < BATCH; i++) sealed[i] = await protectFrame(sender, 'video', frame);
      const t1 = performance.now();
      for (let i = 0; i < BATCH; i++) await unprotectFrame(receiver, 'video', sealed[i]!);
      const t2 = performance.now();
      if (b >= warm) {
        enc.push((t1 - t0) / BATCH);
        dec.push((t2 - t1) / BATCH);
      }
    }
    enc.sort((a, b) => a - b);
    dec.sort((a, b) => a - b);
    out.push({ bytes, iters: batches * BATCH, encryptMedianMs: q(enc, 0.5), encryptP95Ms: q(enc, 0.95), decryptMedianMs: q(dec, 0.5), decryptP95Ms: q(dec, 0.95) });
  }
  return out;
}
