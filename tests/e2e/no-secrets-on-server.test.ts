// Records everything the server receives, sends, logs and stores during a full
// call, then searches it for the room secret and every key the pages held.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { ConfideServer } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { startConfide } from '../../server/app.ts';
import { launchChromium, newPerson, waitFor } from './support/browser.ts';
import { enableKeyHooks, inbound } from './support/call.ts';
import { TestConsultation } from './support/consultation.ts';
import { TEST_CLIENT_DIR } from './support/server.ts';
import { keyLog } from './support/keys.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-secrets-'));
const logFile = path.join(dir, 'server.log');
const requests: string[] = []; // HTTP request lines and headers
const payloads: string[] = []; // socket.io payloads both ways

let server: ConfideServer;
let browser: Browser;

beforeAll(async () => {
  const cfg = loadConfig({ CONFIDE_PORT: '0', CONFIDE_WORKERS: '1', CONFIDE_DATA_DIR: dir });
  const logger = pino({ level: 'debug' }, pino.destination({ dest: logFile, sync: true }));
  server = await startConfide(cfg, { logger, clientDir: TEST_CLIENT_DIR });
  const record = (req: { method?: string; url?: string; headers: object }) =>
    requests.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
  server.httpServer.prependListener('request', record);
  server.httpServer.prependListener('upgrade', record);
  server.io.on('connection', (socket) => {
    record(socket.request);
    socket.onAny((event: string, ...args: unknown[]) => payloads.push(`in ${event} ${JSON.stringify(args)}`));
    socket.onAnyOutgoing((event: string, ...args: unknown[]) => payloads.push(`out ${event} ${JSON.stringify(args)}`));
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function encodings(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  const hex = bytesToHex(bytes);
  return [hex, hex.toUpperCase(), b.toString('base64'), b.toString('base64url'), b.toString('base64').replace(/=+$/, '')];
}

describe('nothing secret reaches the server', () => {
  it('room secret and all key material are absent from requests, payloads, logs and stored files', async () => {
    const a = await newPerson(browser, server.url);
    const b = await newPerson(browser, server.url);
    await enableKeyHooks(a.context, 'observe');
    await enableKeyHooks(b.context, 'observe');
    const c = await TestConsultation.create(server);
    const aId = await c.joinAsDoctor(a.page);
    const bId = await c.joinAsPatient(b.page, 'Bob');
    for (const [page, other] of [
      [a.page, bId],
      [b.page, aId],
    ] as const) {
      await waitFor('decoding', () => inbound(page), (s) => s.some((x) => x.peerId === other && x.kind === 'video' && x.framesDecoded >= 30));
    }
    const keys = [...(await keyLog(a.page)), ...(await keyLog(b.page))];
    expect(keys.filter((k) => k.owner === 'identity')).toHaveLength(2);
    expect(keys.length).toBeGreaterThan(6);
    await b.page.getByRole('button', { name: 'Leave' }).click();
    await new Promise((r) => setTimeout(r, 1500)); // the leave rekey happens too
    const laterKeys = await keyLog(a.page);
    await a.context.close();
    await b.context.close();
    await new Promise((r) => setTimeout(r, 300));

    const secrets = new Map<string, Uint8Array>([['room secret', c.secret]]);
    for (const k of [...keys, ...laterKeys]) secrets.set(`${k.owner}/${k.kid}`, hexToBytes(k.key));

    const stored: [string, Buffer][] = [
      ['HTTP requests', Buffer.from(requests.join('\n'))],
      ['server log', fs.readFileSync(logFile)],
      ...storedFiles(dir).map((f): [string, Buffer] => [f, fs.readFileSync(f)]),
    ];
    const haystacks: [string, Buffer][] = [...stored, ['socket.io payloads', Buffer.from(payloads.join('\n'))]];
    // Control: the recording did capture the key exchange (public keys travel in the clear).
    const traffic = payloads.join('\n');
    expect(traffic).toContain('keyCommitted');
    expect(traffic).toContain('keyRevealed');
    expect(traffic).toContain('sendKey');
    expect(requests.some((l) => l.startsWith(`GET /join/${c.id}`))).toBe(true);
    expect(storedFiles(dir).some((f) => f.endsWith('confide.sqlite'))).toBe(true);

    // The patient's token is a credential the server checks (sent once, in the
    // waiting-room request), but it is never in a URL, a log or the database.
    expect(traffic).toContain(c.patientToken);
    for (const [where, hay] of stored) expect(hay.includes(c.patientToken), `patient token in ${where}`).toBe(false);

    for (const [name, bytes] of secrets) {
      for (const [where, hay] of haystacks) {
        expect(hay.includes(Buffer.from(bytes)), `${name} raw in ${where}`).toBe(false);
        const text = hay.toString('latin1');
        for (const enc of encodings(bytes)) expect(text.includes(enc), `${name} encoded in ${where}`).toBe(false);
      }
    }
  });
});

function storedFiles(root: string): string[] {
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}
