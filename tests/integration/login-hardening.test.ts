// Issue 12, items 1 and 4, against a real server on loopback with production's
// password hashing: concurrent guesses against the sign-in limits, a flood of
// sign-ins that must not slow page loads, rehashing of old hashes, and client
// addresses behind a proxy that a client cannot choose by writing
// X-Forwarded-For. Bounded load only.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfideServer } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { OWASP_SCRYPT, PasswordHasher } from '../../server/auth/passwords.ts';
import { openStores } from '../../server/store/index.ts';
import { UserStore } from '../../server/store/users.ts';
import { startTestServer, TEST_CLIENT_DIR } from '../e2e/support/server.ts';

const PASSWORD = 'a long and uncommon passphrase';
const servers: ConfideServer[] = [];

async function serve(env: Record<string, string> = {}, production = false): Promise<ConfideServer> {
  const s = await startTestServer(env, production ? { passwordHasher: new PasswordHasher(OWASP_SCRYPT) } : {});
  servers.push(s);
  return s;
}

function login(server: ConfideServer, email: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email, password }),
  });
}

afterAll(async () => {
  for (const s of servers) await s.close();
});

describe('sign-in under concurrent guessing (production hashing)', () => {
  let server: ConfideServer;
  beforeAll(async () => {
    server = await serve({}, true);
    await server.stores.users.create({ email: 'doc@clinic.test', name: 'Dr Doc', role: 'doctor', password: PASSWORD });
  });

  it('60 concurrent guesses for one account: at most 5 checked, and the right password sent last is refused', async () => {
    const wrong = Array.from({ length: 59 }, (_, i) => login(server, 'doc@clinic.test', `wrong guess number ${i}`));
    await new Promise((r) => setTimeout(r, 150)); // the first guesses are still being hashed
    const right = login(server, 'doc@clinic.test', PASSWORD);
    const statuses = await Promise.all([...wrong, right].map(async (p) => (await p).status));
    expect(statuses.filter((s) => s === 200)).toEqual([]);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(statuses[59]).toBe(429);
  });

  it('300 concurrent sign-ins from 300 addresses: hashing stays bounded and pages still load at once', async () => {
    const proxied = await serve({ CONFIDE_TRUST_PROXY: '1' }, true);
    const asset = fs.readdirSync(path.join(TEST_CLIENT_DIR, 'assets')).find((f) => f.endsWith('.css'))!;
    const started = Date.now();
    const flood = Array.from({ length: 300 }, (_, i) =>
      login(proxied, `nobody${i}@clinic.test`, 'some guess here', { 'x-forwarded-for': `198.51.100.${i % 250}, 203.0.${i >> 8}.${i & 255}` }),
    );
    // While it runs: the page and an asset, five times.
    const pageTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      for (const url of [`${proxied.url}/`, `${proxied.url}/assets/${asset}`]) {
        const t = Date.now();
        const res = await fetch(url);
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        pageTimes.push(Date.now() - t);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const statuses = await Promise.all(flood.map(async (p) => (await p).status));
    const tookMs = Date.now() - started;
    // Unbounded, each page load waited behind ~300 queued hashes (~10 s here).
    expect(Math.max(...pageTimes), `page loads (ms): ${pageTimes.join(', ')}`).toBeLessThan(2000);
    // Only the gate's few (2 running + 8 queued, then whoever came as slots freed) were hashed.
    expect(statuses.filter((s) => s === 401).length).toBeLessThan(60);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(240);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(tookMs).toBeLessThan(60_000);
  });

  it('a hash made with older, weaker parameters is replaced at the next sign-in', async () => {
    const weak = new PasswordHasher({ N: 2 ** 10, r: 8, p: 1 });
    const stores = await openStores(':memory:', { passwordHasher: weak });
    try {
      const u = await stores.users.create({ email: 'old@clinic.test', name: 'Old', role: 'doctor', password: PASSWORD });
      const stored = async () =>
        (await stores.db.kysely.selectFrom('users').select('password_hash').where('id', '=', u.id).executeTakeFirstOrThrow()).password_hash;
      expect(await stored()).toMatch(/^scrypt\$1024\$8\$1\$/);
      const today = new UserStore(stores.db, stores.sessions, new PasswordHasher({ N: 2 ** 12, r: 8, p: 1 }));
      expect(await today.verify('old@clinic.test', 'wrong password!!')).toBeUndefined();
      expect(await stored()).toMatch(/^scrypt\$1024\$/); // a wrong password changes nothing
      expect((await today.verify('old@clinic.test', PASSWORD))?.id).toBe(u.id);
      expect(await stored()).toMatch(/^scrypt\$4096\$8\$1\$/);
      expect((await today.verify('old@clinic.test', PASSWORD))?.id).toBe(u.id);
      expect(new PasswordHasher().params).toEqual({ N: 2 ** 17, r: 8, p: 1 }); // production: OWASP's scrypt
    } finally {
      await stores.db.close();
    }
  });
});

describe('client addresses behind a proxy (CONFIDE_TRUST_PROXY)', () => {
  it('parses a hop count or the proxies’ addresses, and refuses to trust everything', () => {
    expect(loadConfig({ CONFIDE_TRUST_PROXY: '1' }).trustProxy).toEqual({ hops: 1 });
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ CONFIDE_TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,loopback' }).trustProxy).toEqual({
      addresses: ['10.0.0.1', '10.1.0.0/16', 'loopback'],
    });
    for (const bad of ['true', 'yes', '*', '10.0.0.0/33', '0', 'proxy.example']) {
      expect(() => loadConfig({ CONFIDE_TRUST_PROXY: bad }), bad).toThrow(/CONFIDE_TRUST_PROXY/);
    }
  });

  it('a client rotating the left of X-Forwarded-For is still one client (hops, addresses, or no proxy)', async () => {
    const envs: Record<string, string>[] = [{ CONFIDE_TRUST_PROXY: '1' }, { CONFIDE_TRUST_PROXY: '127.0.0.1' }, {}];
    for (const env of envs) {
      const server = await serve(env);
      await server.stores.users.create({ email: 'doc@clinic.test', name: 'Dr Doc', role: 'doctor', password: PASSWORD });
      const statuses: number[] = [];
      for (let i = 0; i < 25; i++) {
        // What the client wrote, then what our proxy (this loopback peer) appended: the client's real address.
        const res = await login(server, 'doc@clinic.test', `wrong guess ${i}`, { 'x-forwarded-for': `192.0.2.${i}, 203.0.113.7` });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 5), JSON.stringify(env)).toEqual([401, 401, 401, 401, 401]);
      expect(new Set(statuses.slice(5)), JSON.stringify(env)).toEqual(new Set([429]));
    }
  });

  it('behind one proxy, two real clients are told apart (one locked out, the other signs in)', async () => {
    const server = await serve({ CONFIDE_TRUST_PROXY: '1' });
    await server.stores.users.create({ email: 'doc@clinic.test', name: 'Dr Doc', role: 'doctor', password: PASSWORD });
    for (let i = 0; i < 6; i++) await login(server, 'doc@clinic.test', `wrong guess ${i}`, { 'x-forwarded-for': '203.0.113.7' });
    expect((await login(server, 'doc@clinic.test', PASSWORD, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429);
    expect((await login(server, 'doc@clinic.test', PASSWORD, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
  });
});
