// Bench only: every caller guards its use with `__CONFIDE_BENCH__` (true only
// in `vite build --mode bench`), so this module is in neither the production
// nor the test bundle (tests/integration/production-build.test.ts).
import type { CryptoTiming } from '../e2ee/bench-crypto.ts';

/**
 * How a call of `npm run bench` treats media frames (scripts/bench-browser.ts),
 * from localStorage `confide.benchE2ee`:
 * - 'off': the baseline without any frame transform, media flows as plain
 *   WebRTC would;
 * - 'pass': the pass-through baseline: the same frame Worker and encoded
 *   transforms as E2EE, but frames go through unchanged (no crypto);
 * - 'on' (anything else): the shipped E2EE.
 * Key agreement runs in all three. Never throws (storage may be refused).
 */
export function benchE2eeMode(): 'on' | 'off' | 'pass' {
  try {
    const v = window.localStorage.getItem('confide.benchE2ee');
    return v === 'off' || v === 'pass' ? v : 'on';
  } catch {
    return 'on';
  }
}

/**
 * Times protectFrame/unprotectFrame inside a Chromium Worker (a module Worker
 * as the frame Worker is, running the same code) for each frame size (bytes).
 * Rejects with the Worker's error.
 */
export function benchCryptoInWorker(sizes: number[], iters: number): Promise<CryptoTiming[]> {
  const worker = new Worker(new URL('../e2ee/bench-crypto-worker.ts', import.meta.url), { type: 'module', name: 'confide-bench-crypto' });
  return new Promise<CryptoTiming[]>((resolve, reject) => {
    worker.onmessage = ({ data }: MessageEvent<{ timings?: CryptoTiming[]; error?: string }>) =>
      data.timings ? resolve(data.timings) : reject(new Error(data.error));
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage({ sizes, iters });
  }).finally(() => worker.terminate());
}
