import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The client lives in client/. Two builds (scripts/build-client.sh):
// - production (`vite build`): dist/client, what the server serves. No source
//   maps, and the test hooks (window.__confide, the localStorage key-hook
//   modes) are compiled out: `__CONFIDE_TEST_HOOKS__` is `false`, so their
//   branches are dead code the minifier drops (tests/integration/production-build.test.ts).
// - test (`vite build --mode test`): dist/client-test, what the browser tests
//   serve (tests/e2e/support/server.ts), with the hooks and source maps.
export default defineConfig(({ mode }) => {
  const test = mode === 'test';
  return {
    root: 'client',
    plugins: [react()],
    define: { __CONFIDE_TEST_HOOKS__: JSON.stringify(test) },
    build: {
      outDir: test ? '../dist/client-test' : '../dist/client',
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
