import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The client lives in client/. Two builds (scripts/build-client.sh):
// - production (`vite build`): dist/client, what the server serves. No source
//   maps, and the test hooks (window.__confide, the localStorage key-hook
//   modes) are compiled out: `__CONFIDE_TEST_HOOKS__` is `false`, so their
//   branches are dead code the minifier drops (tests/integration/production-build.test.ts).
// - test (`vite build --mode test`): dist/client-test, what the browser tests
//   serve (tests/e2e/support/server.ts), with the hooks and source maps.
// - bench (`vite build --mode bench`): dist/client-bench, the test build plus
//   `__CONFIDE_BENCH__`: the E2EE-off baseline and the in-Worker crypto timer
//   that only `npm run bench` uses (scripts/bench-browser.ts); absent from the
//   other two builds (tests/integration/production-build.test.ts).
const OUT_DIR: Record<string, string> = { test: '../dist/client-test', bench: '../dist/client-bench' };

export default defineConfig(({ mode }) => {
  const bench = mode === 'bench';
  const test = mode === 'test' || bench;
  return {
    root: 'client',
    plugins: [react()],
    define: { __CONFIDE_TEST_HOOKS__: JSON.stringify(test), __CONFIDE_BENCH__: JSON.stringify(bench) },
    build: {
      outDir: OUT_DIR[mode] ?? '../dist/client',
      emptyOutDir: true,
      sourcemap: test,
      // One call page: React, mediasoup-client, socket.io and zod in one chunk is expected.
      chunkSizeWarningLimit: 1200,
    },
    worker: { format: 'es' },
    server: {
      proxy: {
        '/socket.io': { target: 'http://127.0.0.1:3000', ws: true },
        '/api': 'http://127.0.0.1:3000',
      },
    },
  };
});
