// Issue 12, item 13: nothing test-only ships. The production build (what
// `npm start` serves, dist/client) has no test hooks, no key-hook switch and
// no source maps; the test build (dist/client-test) has them, so this test
// can tell the two apart. HSTS when cookies are Secure; the SFU's own error
// text never reaches a client.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfideServer } from '../../server/app.ts';
import { connectSocket, send } from '../support/socket-client.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { buildBenchClient } from '../e2e/support/global-setup.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PRODUCTION = path.join(root, 'dist/client');
const TEST = path.join(root, 'dist/client-test');
const BENCH = path.join(root, 'dist/client-bench');

/** Every file under `dir`, as [relative path, contents]. */
function filesOf(dir: string): [string, string][] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile())
    .map((f) => [path.relative(dir, f), fs.readFileSync(f, 'latin1')]);
}

/** Strings only the test hooks have: the window global, the localStorage switch, the hook names. */
const HOOK_MARKERS = ['__confide', 'confide.testKeyHooks', 'inboundStats', 'e2eeStats', '__CONFIDE_TEST_HOOKS__'];

describe('the production build', () => {
  it('has no test hooks, no key-hook switch and no source maps (the test build has them)', () => {
    const prod = filesOf(PRODUCTION);
    expect(prod.some(([f]) => f.endsWith('.js'))).toBe(true);
    expect(prod.filter(([f]) => f.endsWith('.map')).map(([f]) => f)).toEqual([]);
    for (const [file, text] of prod) {
      expect(text, file).not.toContain('sourceMappingURL');
      for (const marker of HOOK_MARKERS) expect(text.includes(marker), `${marker} in ${file}`).toBe(false);
    }

    // The browser tests' build does carry them: the check above is not vacuous.
    const test = filesOf(TEST).filter(([f]) => f.endsWith('.js'));
    const all = test.map(([, t]) => t).join('\n');
    expect(all).toContain('__confide');
    expect(all).toContain('confide.testKeyHooks');
    expect(filesOf(TEST).some(([f]) => f.endsWith('.map'))).toBe(true);
  });
});

/** Only React's development build has these (JSX dev runtime, DOM nesting checks): it double-runs effects under StrictMode. */
const REACT_DEV_MARKERS = ['jsxDEV', 'validateDOMNesting'];

describe('the React the builds ship', () => {
  it('is the production build in both the production and the test build (vitest runs the build with NODE_ENV=test)', () => {
    for (const dir of [PRODUCTION, TEST]) {
      for (const [file, text] of filesOf(dir).filter(([f]) => f.endsWith('.js'))) {
        for (const marker of REACT_DEV_MARKERS) expect(text.includes(marker), `${marker} in ${path.basename(dir)}/${file}`).toBe(false);
      }
    }
  });
});

/**
 * Strings only the bench build has: the E2EE-off / pass-through switch, the
 * pass-through option of the frame Worker, the in-Worker crypto timer, the flag.
 */
const BENCH_MARKERS = ['confide.benchE2ee', 'benchPassThrough', 'benchCrypto', 'bench-crypto-worker', 'timeFrameCrypto', '__CONFIDE_BENCH__'];

describe('the E2EE-off and pass-through baselines of npm run bench', () => {
  it('are absent from the production and test builds (the bench build has them)', () => {
    buildBenchClient();
    // The test build's source maps quote the sources (where the guarded calls are written): its code is what counts.
    for (const dir of [PRODUCTION, TEST]) {
      for (const [file, text] of filesOf(dir).filter(([f]) => !f.endsWith('.map'))) {
        expect(file, 'a bench-only file').not.toMatch(/bench/i);
        for (const marker of BENCH_MARKERS) expect(text.includes(marker), `${marker} in ${path.basename(dir)}/${file}`).toBe(false);
      }
    }
    const bench = filesOf(BENCH).filter(([f]) => f.endsWith('.js'));
    const all = bench.map(([, t]) => t).join('\n');
    expect(all).toContain('confide.benchE2ee');
    expect(bench.some(([f]) => f.includes('bench-crypto-worker'))).toBe(true);
    // Both ends of the pass-through: the page asks for it, the frame Worker obeys it.
    for (const side of ['index-', 'frame-worker-']) {
      expect(bench.some(([f, t]) => path.basename(f).startsWith(side) && t.includes('benchPassThrough')), side).toBe(true);
    }
  });
});

describe('headers and SFU errors', () => {
  const servers: ConfideServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it('sends HSTS only when cookies are Secure (served over HTTPS)', async () => {
    const plain = await startTestServer();
    servers.push(plain);
    const secure = await startTestServer({ CONFIDE_COOKIE_SECURE: '1' });
    servers.push(secure);
    expect((await fetch(`${plain.url}/`)).headers.get('strict-transport-security')).toBeNull();
    for (const url of [`${secure.url}/`, `${secure.url}/api/health`]) {
      expect((await fetch(url)).headers.get('strict-transport-security')).toMatch(/^max-age=\d{8,}/);
    }
  });

  it('answers an SFU refusal with a fixed message, not mediasoup’s text', async () => {
    const server = servers[0]!;
    const c = await TestConsultation.create(server);
    const s = await connectSocket(server.url, c.doctorSession);
    try {
      expect((await send(s, 'join', { roomId: c.id, displayName: 'Dr' })).ok).toBe(true);
      const t = await send(s, 'createTransport', { direction: 'send' });
      const transportId = (t.data as { id: string }).id;
      const ack = await send(s, 'produce', {
        transportId,
        kind: 'video',
        source: 'camera',
        rtpParameters: { codecs: [{ mimeType: 'video/H265', payloadType: 100, clockRate: 90000 }], encodings: [{ ssrc: 1 }] },
      });
      expect(ack.error).toEqual({ code: 'bad-request', message: 'rejected by the SFU' });
    } finally {
      s.close();
    }
  });
});
