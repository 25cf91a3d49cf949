// A private network namespace for browser tests that need a real host
// address: Firefox gathers no loopback ICE candidates, so it cannot reach an
// SFU on 127.0.0.1. A test file runs itself again inside a namespace of its
// own (runInTestNetwork), where the server, its SFU and every browser share
// the test address; the namespace vanishes with its last process, so nothing
// is left behind even when a test fails or the run is killed.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The test host's address (RFC 2544 benchmarking range), only ever inside the namespace. */
export const TEST_NET_IP = '198.18.0.1';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

/** True inside the namespace that runInTestNetwork made (the test address is on an interface here). */
export function inTestNetwork(): boolean {
  if (process.env.CONFIDE_TEST_NETNS !== TEST_NET_IP) return false;
  return Object.values(os.networkInterfaces()).some((addrs) => addrs?.some((a) => a.address === TEST_NET_IP));
}

/**
 * Runs `vitest run --project e2e <testFile>` inside a new network namespace
 * (`unshare --net`, and `--map-root-user` when not root), output inherited.
 * Resolves with its exit code (null when killed). After it ends — or after
 * `timeoutMs` — the whole process group it started (browsers, SFU workers) is
 * killed, so no process keeps the namespace alive.
 */
export function runInTestNetwork(testFile: string, timeoutMs: number): Promise<number | null> {
  const unshare = ['--net', '--kill-child', ...(process.getuid?.() === 0 ? [] : ['--map-root-user'])];
  const vitest = path.join(root, 'node_modules/.bin/vitest');
  const child = spawn(
    'unshare',
    [...unshare, '--', 'bash', path.join(here, 'netns-enter.sh'), vitest, 'run', '--project', 'e2e', path.relative(root, testFile)],
    { cwd: root, stdio: 'inherit', detached: true, env: { ...process.env, CONFIDE_TEST_NETNS: TEST_NET_IP } },
  );
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(killGroup, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      killGroup();
      resolve(code);
    });
  });
}

/**
 * Declares a test file's tests so they run inside a network namespace of
 * their own: `suite` directly when already inside one (scripts/test-e2e.sh
 * makes it), otherwise one test that runs the whole file again in a new
 * namespace and expects its exit code 0 within `budgetMs`.
 */
export function inOwnNetwork(title: string, testFileUrl: string, budgetMs: number, suite: () => void): void {
  if (inTestNetwork()) {
    suite();
    return;
  }
  describe(`${title} (inside a network namespace of its own)`, () => {
    it('passes every test of this file there', async () => {
      const code = await runInTestNetwork(fileURLToPath(testFileUrl), budgetMs);
      expect(code, 'exit code of the run inside the namespace (its report is above)').toBe(0);
    }, budgetMs + 60_000);
  });
}
