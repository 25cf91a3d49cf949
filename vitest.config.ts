import { defineConfig } from 'vitest/config';

// Two projects: fast pure unit tests (run in parallel) and real-browser call
// tests (Chromium, Firefox + mediasoup), which run one file at a time because
// each holds a server, a worker pool and several browser pages on 2 cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/integration/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
