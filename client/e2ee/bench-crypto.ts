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

export interface CryptoTiming {
  bytes: number;
  iters: number;
  /** Per frame (ms): median and 95th percentile of encrypt (protectFrame) and decrypt (unprotectFrame). */
  encryptMedianMs: number;
  encryptP95Ms: number;
  decryptMedianMs: number;
  decryptP95Ms: number;
}

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

/**
 * For each frame size (bytes), `iters` video frames encrypted then decrypted
 * one at a time (each awaited), after `iters / 4` warm-up rounds. A fresh key
 * per size; the counter stays well inside the replay window.
 */
export async function timeFrameCrypto(sizes: number[], iters: number): Promise<CryptoTiming[]> {
  const out: CryptoTiming[] = [];
  for (const bytes of sizes) {
    const key = crypto.getRandomValues(new Uint8Array(16));
    const sender = new SFrameSender(SUITE);
    const receiver = new SFrameReceiver(SUITE);
    await sender.setKey(9n, key);
    await receiver.addKey(9n, key);
    const frame = crypto.getRandomValues(new Uint8Array(Math.max(1, bytes)));
    const enc: number[] = [];
    const dec: number[] = [];
    const warm = Math.ceil(iters / 4);
    for (let i = 0; i < warm + iters; i++) {
      const t0 = performance.now();
      const sealed = await protectFrame(sender, 'video', frame);
      const t1 = performance.now();
      await unprotectFrame(receiver, 'video', sealed);
      const t2 = performance.now();
      if (i >= warm) {
        enc.push(t1 - t0);
        dec.push(t2 - t1);
      }
    }
    enc.sort((a, b) => a - b);
    dec.sort((a, b) => a - b);
    out.push({ bytes, iters, encryptMedianMs: q(enc, 0.5), encryptP95Ms: q(enc, 0.95), decryptMedianMs: q(dec, 0.5), decryptP95Ms: q(dec, 0.95) });
  }
  return out;
}
