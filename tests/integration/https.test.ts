// Built-in HTTPS (issue 15): with CONFIDE_TLS_CERT / CONFIDE_TLS_KEY (a
// self-signed certificate made here with Debian's openssl) the server speaks
// HTTPS only: the app loads in Chromium as a secure context (camera and
// WebCrypto need one), the session cookie is Secure, HSTS is sent, signalling
// runs over wss, and a renewed certificate is picked up without a restart.
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import type { ConfideServer } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { launchChromium } from '../e2e/support/browser.ts';
import { expectSecureSession } from '../support/secure-session.ts';
import { writeTestCert } from '../e2e/support/test-cert.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-tls-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');
const PASSWORD = 'correct horse battery staple';
let server: ConfideServer;

/** A self-signed certificate for 127.0.0.1 / localhost (written over the previous one). */
const makeCert = (cn: string) => writeTestCert(certFile, keyFile, cn, 'IP:127.0.0.1,DNS:localhost');

/** One HTTPS request trusting only our certificate; resolves with status, headers, body and the certificate's CN. */
function request(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; body: string; cn: string }>((resolve, reject) => {
    const req = https.request(url, { method: init.method ?? 'GET', ca: fs.readFileSync(certFile), headers: init.headers, agent: false }, (res) => {
      const cn = String((res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, cn }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

beforeAll(async () => {
  makeCert('confide-test-1');
  server = await startTestServer({ CONFIDE_TLS_CERT: certFile, CONFIDE_TLS_KEY: keyFile });
  await server.stores.users.create({ email: 'admin@clinic.test', name: 'Ada Admin', role: 'admin', password: PASSWORD });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('built-in HTTPS', () => {
  it('serves the app over HTTPS with HSTS, and a Secure session cookie', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const page = await request(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script');
    expect(page.headers['strict-transport-security']).toMatch(/^max-age=\d{8,}/);

    const login = await request(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({ email: 'admin@clinic.test', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    expectSecureSession(login.headers);
  });

  it('refuses plain HTTP on the same port', async () => {
    const plain = await fetch(server.url.replace('https:', 'http:')).then((r) => r.status, () => 'refused');
    expect(plain).not.toBe(200);
  });

  it('loads in Chromium as a secure context and connects signalling over wss', async () => {
    const browser = await launchChromium();
    try {
      // The test's own certificate is not in Chromium's store: accept it for this context only.
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      await page.goto(server.url);
      await page.getByRole('button', { name: /sign in/i }).waitFor();
      expect(await page.evaluate(() => window.isSecureContext && typeof crypto.subtle?.digest === 'function')).toBe(true);
      await context.close();
    } finally {
      await browser.close();
    }
    const socket = io(server.url, { transports: ['websocket'], reconnection: false, forceNew: true, ca: fs.readFileSync(certFile, 'utf8') });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      expect(socket.io.engine.transport.name).toBe('websocket');
    } finally {
      socket.disconnect();
    }
  });

  it('picks up a renewed certificate without a restart (SIGHUP → reloadTls)', async () => {
    expect((await request(`${server.url}/api/health`)).cn).toBe('confide-test-1');
    makeCert('confide-test-2');
    server.reloadTls();
    expect((await request(`${server.url}/api/health`)).cn).toBe('confide-test-2');
  });

  it('needs both files, and makes cookies Secure by itself', () => {
    expect(() => loadConfig({ CONFIDE_TLS_CERT: certFile })).toThrow(/CONFIDE_TLS_KEY/);
    expect(loadConfig({ CONFIDE_TLS_CERT: certFile, CONFIDE_TLS_KEY: keyFile }).cookieSecure).toBe(true);
    expect(loadConfig({}).cookieSecure).toBe(false);
  });
});
