// Bench only: every caller guards its use with `__CONFIDE_BENCH__` (true only
// in `vite build --mode bench`), so this module is in neither the production
// nor the test bundle (tests/integration/production-build.test.ts).
import type { CryptoTiming } from '../e2ee/bench-crypto.ts';

/**
 * The E2EE-off baseline of `npm run bench` (scripts/bench-browser.ts): with
 * localStorage `confide.benchE2ee` = 'off', the call attaches no frame
 * transform, so media flows as plain WebRTC would. Key agreement still runs.
 */
export function benchE2eeOff(): boolean {
  try {
    return window.localStorage.getItem('confide.benchE2ee') === 'off';
  } catch {
    return false;
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
