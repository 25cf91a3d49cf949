import { defineConfig } from 'vitest/config';

// Two projects: fast pure unit tests (run in parallel) and real-browser call
// tests (Chromium, Firefox + mediasoup), which run one file at a time because
// each holds a server, a worker pool and several browser pages on 2 cores. The
// browser tests serve the test build of the client (global-setup.ts builds it).
// Client modules run under the unit tests as in production: no test hooks.
const define = { __CONFIDE_TEST_HOOKS__: 'false', __CONFIDE_BENCH__: 'false' };

export default defineConfig({
  test: {
    projects: [
      {
        define,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        define,
        test: {
          name: 'e2e',
          include: ['tests/integration/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/e2e/support/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
