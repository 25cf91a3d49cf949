// The reverse-proxy route of docs/deployment.md (issue 15), tested: Debian's
// nginx runs the shipped sample deploy/nginx/confide.conf (tests/support/nginx.ts
// swaps only its ports, certificate and upstream) in front of a Confide server
// started as the docs say (CONFIDE_TRUST_PROXY=1, CONFIDE_COOKIE_SECURE=1). Through
// nginx: the app and /api/health load over TLS with HSTS and a Secure cookie, a
// browser-like sign-in passes the origin check, /metrics stays closed, port 80
// redirects, signalling upgrades to WebSocket and does a doctor ↔ patient round
// trip, and the client's own address reaches the server (the sign-in throttle
// and the per-address connection cap tell clients apart) — which, with proxy
// trust off, it does not: every client is nginx's 127.0.0.1.
// Clients get distinct addresses by binding 127.0.0.x (all of 127/8 is loopback).
import fs from 'node:fs';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { requireNginx, startNginx, type RunningNginx } from '../support/nginx.ts';
import { send } from '../support/socket-client.ts';
import { expectSecureSession } from '../support/secure-session.ts';
import { writeTestCert } from '../e2e/support/test-cert.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-nginx-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');
const PASSWORD = 'correct horse battery staple';
/** As docs/deployment.md says to run Confide behind the sample; the cap is low so it can be reached. */
const PROXIED_ENV = { CONFIDE_TRUST_PROXY: '1', CONFIDE_COOKIE_SECURE: '1', CONFIDE_MAX_SOCKETS_PER_IP: '2' };

interface Proxied {
  server: ConfideServer;
  nginx: RunningNginx;
}
const started: Proxied[] = [];
const sockets: Socket[] = [];

/** A Confide server and the sample nginx in front of it. */
async function proxied(env: Record<string, string>): Promise<Proxied> {
  const server = await startTestServer(env);
  const sub = fs.mkdtempSync(path.join(dir, 'nginx-'));
  const p = { server, nginx: undefined as unknown as RunningNginx };
  started.push(p);
  p.nginx = await startNginx({ dir: sub, upstreamPort: Number(new URL(server.url).port), certFile, keyFile });
  return p;
}

type Reply = { status: number; headers: IncomingHttpHeaders; body: string };

/** One request trusting only the test's certificate, from the loopback address `from`. */
function request(url: string, init: { from?: string; method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: init.method ?? 'GET', ca: fs.readFileSync(certFile), headers: init.headers, agent: false, localAddress: init.from ?? '127.0.0.1' },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

function login(url: string, email: string, password: string, from: string, headers: Record<string, string> = {}): Promise<Reply> {
  return request(`${url}/api/auth/login`, {
    method: 'POST',
    from,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email, password }),
  });
}

/**
 * A signalling connection through nginx, WebSocket only (no polling to fall
 * back on), from `from`, with a browser's Origin; resolves once connected, or
 * with the refusal.
 */
function connect(url: string, from: string, cookie?: string): Promise<Socket | Error> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ca: fs.readFileSync(certFile, 'utf8'),
    localAddress: from,
    extraHeaders: { origin: url, ...(cookie ? { cookie: `confide_session=${cookie}` } : {}) },
  } as Parameters<typeof io>[1]);
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => resolve(err));
  });
}

async function connected(url: string, from: string, cookie?: string): Promise<Socket> {
  const s = await connect(url, from, cookie);
  if (s instanceof Error) throw new Error(`signalling through nginx from ${from} refused: ${s.message}`);
  return s;
}

function next<T>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within 5 s`)), 5000);
    socket.once(event, (payload: T) => (clearTimeout(timer), resolve(payload)));
  });
}

let trusted: Proxied;

beforeAll(async () => {
  requireNginx();
  writeTestCert(certFile, keyFile, 'confide-nginx-test', 'IP:127.0.0.1');
  trusted = await proxied(PROXIED_ENV);
  await trusted.server.stores.users.create({ email: 'admin@clinic.test', name: 'Ada Admin', role: 'admin', password: PASSWORD });
});

afterAll(async () => {
  for (const s of sockets) s.close();
  for (const p of started) {
    await p.nginx?.stop();
    await p.server.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Confide behind the nginx sample (deploy/nginx/confide.conf)', () => {
  it('serves the app and /api/health over TLS, with HSTS, and keeps /metrics closed', async () => {
    const { nginx, server } = trusted;
    const page = await request(`${nginx.url}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'"); // Confide's page, not nginx's
    expect(page.headers['strict-transport-security']).toMatch(/^max-age=\d{8,}/);

    const health = await request(`${nginx.url}/api/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ ok: true });

    // Confide answers /metrics to loopback, which nginx is: the sample must not pass it on.
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    expect((await request(`${nginx.url}/metrics`)).status).toBe(404);

    const plain = await fetch(`${nginx.plainUrl}/join/abc`, { redirect: 'manual' });
    expect(plain.status).toBe(301);
    expect(plain.headers.get('location')).toBe('https://127.0.0.1/join/abc');
  });

  it('signs in from a browser origin: Secure, HttpOnly session cookie and HSTS', async () => {
    const res = await login(trusted.nginx.url, 'admin@clinic.test', PASSWORD, '127.0.0.1', { origin: trusted.nginx.url });
    expect(res.status, res.body).toBe(200);
    expectSecureSession(res.headers);
  });

  it('upgrades signalling to WebSocket and carries a doctor ↔ patient round trip', async () => {
    const c = await TestConsultation.create(trusted.server);
    const doctor = await connected(trusted.nginx.url, '127.0.0.10', c.doctorSession);
    const patient = await connected(trusted.nginx.url, '127.0.0.11');
    expect(doctor.io.engine.transport.name).toBe('websocket');
    expect(patient.io.engine.transport.name).toBe('websocket');

    expect((await send(doctor, 'join', { roomId: c.id, displayName: 'Dr Alice' })).ok).toBe(true);
    const waiting = next<{ requestId: string; displayName: string }>(doctor, 'patientWaiting');
    const entered = await send(patient, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Pat' });
    expect(entered.ok, JSON.stringify(entered.error)).toBe(true);
    const entry = await waiting;
    expect(entry.displayName).toBe('Pat');
    const admitted = next(patient, 'admitted');
    expect((await send(doctor, 'admit', { requestId: entry.requestId })).ok).toBe(true);
    await admitted;
  });

  it('the client’s address reaches the server: sign-in throttle and connection cap per client, not per proxy', async () => {
    const { url } = trusted.nginx;
    // 5 wrong passwords from 127.0.0.2, each claiming another address: nginx appends the real one, which Confide reads.
    for (let i = 0; i < 5; i++) {
      expect((await login(url, 'admin@clinic.test', 'wrong password!', '127.0.0.2', { 'x-forwarded-for': `203.0.113.${i}` })).status).toBe(401);
    }
    expect((await login(url, 'admin@clinic.test', 'wrong password!', '127.0.0.2', { 'x-forwarded-for': '203.0.113.99' })).status).toBe(429);
    expect((await login(url, 'admin@clinic.test', 'wrong password!', '127.0.0.3')).status).toBe(401);

    // Two signalling connections per address (CONFIDE_MAX_SOCKETS_PER_IP=2).
    await connected(url, '127.0.0.4');
    await connected(url, '127.0.0.4');
    expect(await connect(url, '127.0.0.4')).toBeInstanceOf(Error);
    await connected(url, '127.0.0.5');
  });

  it('with proxy trust off, every client is nginx’s own address (the contrast)', async () => {
    const env: Record<string, string> = { ...PROXIED_ENV };
    delete env.CONFIDE_TRUST_PROXY;
    const { nginx, server } = await proxied(env);
    await server.stores.users.create({ email: 'admin@clinic.test', name: 'Ada Admin', role: 'admin', password: PASSWORD });
    for (let i = 0; i < 5; i++) expect((await login(nginx.url, 'admin@clinic.test', 'wrong password!', '127.0.0.2')).status).toBe(401);
    expect((await login(nginx.url, 'admin@clinic.test', 'wrong password!', '127.0.0.3')).status).toBe(429);

    await connected(nginx.url, '127.0.0.4');
    await connected(nginx.url, '127.0.0.4');
    expect(await connect(nginx.url, '127.0.0.5')).toBeInstanceOf(Error);
  });
});
