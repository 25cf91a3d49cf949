// Bench build only (see bench-hooks.ts): a Worker like the frame Worker, whose
// one job is to time the frame crypto there: { sizes, iters } in, CryptoTiming[] out.
import { timeFrameCrypto } from './bench-crypto.ts';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<{ sizes: number[]; iters: number }>) => void) | null; postMessage(m: unknown): void };
scope.onmessage = ({ data }) => {
  void timeFrameCrypto(data.sizes, data.iters).then(
    (timings) => scope.postMessage({ timings }),
    (err: unknown) => scope.postMessage({ error: String(err) }),
  );
};
