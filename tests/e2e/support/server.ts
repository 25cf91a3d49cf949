// Starts a real Confide server in-process on a free port.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../../../server/config.ts';
import { startConfide, type ConfideServer, type StartOptions } from '../../../server/app.ts';
import { PasswordHasher } from '../../../server/auth/passwords.ts';

/**
 * The test build of the client (vite --mode test: window.__confide hooks),
 * built by the e2e project's global setup; production serves dist/client.
 */
export const TEST_CLIENT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/client-test');

/**
 * Tests create many accounts: they hash with a cheap scrypt (N = 2^12) unless
 * a test passes `passwordHasher` (tests of sign-in load use production's).
 */
export const FAST_HASHER = new PasswordHasher({ N: 2 ** 12, r: 8, p: 1 });

/**
 * Each test server gets its own fresh database folder (unless CONFIDE_DATA_DIR
 * is given) and one WebRtcServer per worker on free ports of the worker's range
 * (CONFIDE_MEDIA_PORT=0, so servers of one file never collide). To compare
 * with the per-transport port range, run with CONFIDE_TEST_MEDIA_PORT=range.
 */
export async function startTestServer(env: Record<string, string> = {}, opts: StartOptions = {}): Promise<ConfideServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-test-'));
  const cfg = loadConfig({ CONFIDE_PORT: '0', CONFIDE_WORKERS: '1', CONFIDE_LOG_LEVEL: 'warn', CONFIDE_DATA_DIR: dataDir, CONFIDE_MEDIA_PORT: process.env.CONFIDE_TEST_MEDIA_PORT ?? '0', ...env });
  return startConfide(cfg, { logger: pino({ level: cfg.logLevel }), clientDir: TEST_CLIENT_DIR, passwordHasher: FAST_HASHER, ...opts });
}
