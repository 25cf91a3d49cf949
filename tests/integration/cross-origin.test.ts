// Issue 12, item 3: a page on another port of the same host (same site, so
// SameSite=Strict does not stop the cookie) can neither POST to the API with
// the admin's or doctor's cookie nor open a WebSocket that carries it.
// Origins are configurable (CONFIDE_ORIGINS) for deployments behind a proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { originAllowed, parseAllowedOrigins } from '../../server/http/origin-policy.ts';

let server: ConfideServer;
let adminCookie: string;
const sockets: Socket[] = [];

/** The origin a page on another port of this host would have. */
const sibling = () => server.url.replace(/:(\d+)$/, (_, p: string) => `:${Number(p) + 1}`);

function ws(url: string, headers: Record<string, string>): Promise<'connected' | string> {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: headers });
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (err) => resolve(err.message));
  });
}

beforeAll(async () => {
  server = await startTestServer();
  const admin = await server.stores.users.create({ email: 'admin@clinic.test', name: 'Admin', role: 'admin', password: 'console admin passphrase' });
  adminCookie = `confide_session=${await server.stores.sessions.create(admin.id)}`;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

describe('state-changing HTTP requests', () => {
  it('an auto-submitted text/plain form from another port cannot end a consultation; the console can', async () => {
    const c = await TestConsultation.create(server);
    const end = (headers: Record<string, string>, body?: string) =>
      fetch(`${server.url}/api/admin/consultations/${c.id}/end`, { method: 'POST', headers: { cookie: adminCookie, ...headers }, ...(body !== undefined ? { body } : {}) });
    // The form the review used: another port, text/plain, the cookie rides along.
    const forged = await end({ origin: sibling(), 'content-type': 'text/plain' }, 'x=1');
    expect(forged.status).toBe(403);
    expect((await forged.json()).error.code).toBe('forbidden');
    // A browser without Origin but with Fetch Metadata saying "same-site" (another port): refused too.
    expect((await end({ 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await end({ origin: 'null' })).status).toBe(403);
    // From the right origin, a form's content type is still refused: JSON only.
    expect((await end({ origin: server.url, 'content-type': 'text/plain' }, 'x=1')).status).toBe(415);
    expect((await end({ origin: server.url, 'content-type': 'application/x-www-form-urlencoded' }, 'x=1')).status).toBe(415);
    expect((await server.stores.consultations.get(c.id))?.status).not.toBe('ended');
    // The console itself (same origin; or a non-browser client, which sends no Origin) may.
    expect((await end({ origin: server.url, 'sec-fetch-site': 'same-origin' })).status).toBe(204);
    expect((await server.stores.consultations.get(c.id))?.status).toBe('ended');
  });

  it('sign-in from another origin is refused too (no login CSRF); reads are not affected', async () => {
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { origin: sibling(), 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@clinic.test', password: 'console admin passphrase' }),
    });
    expect(res.status).toBe(403);
    expect((await fetch(`${server.url}/api/auth/me`, { headers: { cookie: adminCookie, origin: sibling() } })).status).toBe(200);
  });
});

describe('the signalling handshake', () => {
  it('a WebSocket from another port, carrying the doctor’s cookie, is refused; from the page’s own origin it connects', async () => {
    const c = await TestConsultation.create(server);
    const cookie = `confide_session=${c.doctorSession}`;
    expect(await ws(server.url, { cookie, origin: sibling() })).not.toBe('connected');
    expect(await ws(server.url, { cookie, origin: 'http://evil.example' })).not.toBe('connected');
    expect(await ws(server.url, { cookie, origin: server.url })).toBe('connected');
    // No room was touched by the refused ones.
    expect(server.rooms.peek(c.id)).toBeUndefined();
  });

  it('CONFIDE_ORIGINS names the origins allowed behind a proxy', async () => {
    const proxied = await startTestServer({ CONFIDE_ORIGINS: 'https://clinic.example' });
    try {
      const c = await TestConsultation.create(proxied);
      const cookie = `confide_session=${c.doctorSession}`;
      expect(await ws(proxied.url, { cookie, origin: 'https://clinic.example' })).toBe('connected');
      expect(await ws(proxied.url, { cookie, origin: proxied.url })).not.toBe('connected');
      const end = await fetch(`${proxied.url}/api/auth/logout`, { method: 'POST', headers: { origin: proxied.url } });
      expect(end.status).toBe(403);
    } finally {
      await proxied.close();
    }
  });

  it('the policy, in detail', () => {
    const h = (o: Record<string, string>) => ({ host: 'clinic.example:3000', ...o });
    expect(originAllowed(h({ origin: 'http://clinic.example:3000' }), undefined)).toBe(true);
    expect(originAllowed(h({ origin: 'http://clinic.example:3001' }), undefined)).toBe(false);
    expect(originAllowed(h({ origin: 'http://clinic.example:3000/path' }), undefined)).toBe(false);
    expect(originAllowed(h({ 'sec-fetch-site': 'same-origin' }), undefined)).toBe(true);
    expect(originAllowed(h({ 'sec-fetch-site': 'cross-site' }), undefined)).toBe(false);
    expect(originAllowed(h({}), undefined)).toBe(true); // not a browser
    const allowed = parseAllowedOrigins('https://clinic.example, https://video.clinic.example/');
    expect(originAllowed(h({ origin: 'https://video.clinic.example' }), allowed)).toBe(true);
    expect(originAllowed(h({ origin: 'http://clinic.example:3000' }), allowed)).toBe(false);
    expect(() => parseAllowedOrigins('clinic.example')).toThrow(/CONFIDE_ORIGINS/);
  });
});
