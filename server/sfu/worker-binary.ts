// Points mediasoup at the worker that scripts/build-worker.sh built offline.
// mediasoup reads MEDIASOUP_WORKER_BIN when its module loads, so this must
// run before `mediasoup` is imported (see sfu/mediasoup.ts).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function builtWorkerPath(): string {
  const require = createRequire(import.meta.url);
  const { version } = require('mediasoup/package.json') as { version: string };
  return path.join(root, '.cache', 'mediasoup-worker', version, 'mediasoup-worker');
}

export function useBuiltWorker(): string {
  const bin = process.env.MEDIASOUP_WORKER_BIN || builtWorkerPath();
  if (!fs.existsSync(bin)) {
    throw new Error(`mediasoup worker not found at ${bin}; run "npm run setup" (scripts/build-worker.sh) first`);
  }
  process.env.MEDIASOUP_WORKER_BIN = bin;
  return bin;
}
