// The staff JSON API (server/http/api.ts) on an in-memory store, driven with
// fastify's inject: sign-in, throttling, the admin console, the doctor's
// dashboard, patient links, and that no secret ever leaves in an answer or a
// log line.
import { createHash } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveStatus } from '../../server/http/api.ts';
import type { User } from '../../server/store/users.ts';
import { readSessionToken, sessionCookie, clearSessionCookie } from '../../server/auth/session-cookie.ts';
import { harness, type Harness } from '../support/api-harness.ts';

const ADMIN_PASSWORD = 'admin-Pa55word-very-secret';
const DOCTOR_PASSWORD = 'doctor-Pa55word-also-secret';
const DOCTOR2_PASSWORD = 'second-doctor-secret-pw';

let h: Harness;
let admin: User;
let doctor: User;
let doctor2: User;
let ipCounter = 0;
/** A fresh client address, so per-ip throttling in one test does not spill into another. */
const freshIp = () => `10.0.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

async function call(
  method: InjectOptions['method'],
  url: string,
  o: { cookie?: string; body?: unknown; ip?: string; headers?: Record<string, string>; payload?: string } = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.cookie) headers.cookie = o.cookie;
  const res = await h.app.inject({
    method,
    url,
    headers,
    remoteAddress: o.ip ?? freshIp(),
    ...(o.payload !== undefined ? { payload: o.payload } : o.body !== undefined ? { payload: o.body as object } : {}),
  });
  h.bodies.push(res.body);
  return res;
}

function setCookieOf(res: LightMyRequestResponse): string {
  const raw = res.headers['set-cookie'];
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (typeof v !== 'string') throw new Error('no Set-Cookie');
  return v;
}

async function login(email: string, password: string, ip?: string): Promise<string> {
  const res = await call('POST', '/api/auth/login', { body: { email, password }, ...(ip ? { ip } : {}) });
  expect(res.statusCode, res.body).toBe(200);
  const token = readSessionToken(setCookieOf(res).split(';')[0]);
  expect(token).toBeDefined();
  h.secrets.add(token!);
  return `confide_session=${token}`;
}

function noonToday(offsetDays = 0): number {
  const d = new Date();
  d.setHours(12, 0, 0, 0);
  d.setDate(d.getDate() + offsetDays);
  return d.getTime();
}

let adminCookie: string;
let doctorCookie: string;
let doctor2Cookie: string;

beforeAll(async () => {
  h = await harness();
  admin = await h.stores.users.create({ email: 'Admin@Clinic.test', name: 'Ada Admin', role: 'admin', password: ADMIN_PASSWORD });
  doctor = await h.stores.users.create({ email: 'alice@clinic.test', name: 'Dr Alice', role: 'doctor', password: DOCTOR_PASSWORD });
  doctor2 = await h.stores.users.create({ email: 'bob@clinic.test', name: 'Dr Bob', role: 'doctor', password: DOCTOR2_PASSWORD });
  for (const p of [ADMIN_PASSWORD, DOCTOR_PASSWORD, DOCTOR2_PASSWORD]) h.secrets.add(p);
  adminCookie = await login('admin@clinic.test', ADMIN_PASSWORD);
  doctorCookie = await login('alice@clinic.test', DOCTOR_PASSWORD);
  doctor2Cookie = await login('bob@clinic.test', DOCTOR2_PASSWORD);
});

afterAll(async () => {
  await h?.close();
});

describe('sign-in', () => {
  it('logs in (email case-insensitive) with a session cookie that is HttpOnly, SameSite=Strict, 12 h', async () => {
    const res = await call('POST', '/api/auth/login', { body: { email: ' ADMIN@clinic.TEST ', password: ADMIN_PASSWORD } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user: { ...admin, email: 'admin@clinic.test' } });
    const cookie = setCookieOf(res);
    const attrs = cookie.split(';').map((s) => s.trim());
    expect(attrs[0]).toMatch(/^confide_session=[A-Za-z0-9_-]{43}$/);
    expect(attrs).toContain('HttpOnly');
    expect(attrs).toContain('SameSite=Strict');
    expect(attrs).toContain('Path=/');
    expect(attrs).toContain('Max-Age=43200');
    expect(attrs).not.toContain('Secure'); // cookieSecure: false
    expect(res.headers['cache-control']).toBe('no-store');
    h.secrets.add(readSessionToken(attrs[0])!);

    expect(sessionCookie('abc', { secure: true }).split('; ')).toContain('Secure');
    expect(clearSessionCookie({ secure: false })).toMatch(/^confide_session=; .*Max-Age=0/);
  });

  it('answers the same 401 for a wrong password, an unknown email and a disabled account', async () => {
    const disabled = await h.stores.users.create({
      email: 'gone@clinic.test',
      name: 'Dr Gone',
      role: 'doctor',
      password: 'gone-doctor-password',
    });
    h.secrets.add('gone-doctor-password');
    await h.stores.users.setDisabled(disabled.id, true);
    const answers = [];
    for (const [email, password] of [
      ['alice@clinic.test', 'not-the-password'],
      ['nobody@clinic.test', DOCTOR_PASSWORD],
      ['gone@clinic.test', 'gone-doctor-password'],
    ] as const) {
      const res = await call('POST', '/api/auth/login', { body: { email, password } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['set-cookie']).toBeUndefined();
      answers.push(res.body);
    }
    expect(JSON.parse(answers[0]!)).toEqual({ error: { code: 'invalid-credentials', message: expect.any(String) } });
    expect(new Set(answers).size).toBe(1);
  });

  it('throttles: after 5 failures for an (ip, email), even the right password gets 429 with Retry-After', async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i++) {
      const res = await call('POST', '/api/auth/login', { ip, body: { email: 'alice@clinic.test', password: `wrong-${i}` } });
      expect(res.statusCode).toBe(401);
    }
    const res = await call('POST', '/api/auth/login', { ip, body: { email: 'alice@clinic.test', password: DOCTOR_PASSWORD } });
    expect(res.statusCode).toBe(429);
    expect(res.json().error.code).toBe('too-many-attempts');
    const retry = Number(res.headers['retry-after']);
    expect(retry).toBeGreaterThan(800);
    expect(retry).toBeLessThanOrEqual(900);
    // Another address, or another account from this address, is unaffected.
    const other = freshIp();
    for (let i = 0; i < 4; i++) {
      expect((await call('POST', '/api/auth/login', { ip: other, body: { email: 'alice@clinic.test', password: 'nope-nope' } })).statusCode).toBe(401);
    }
    // A success clears that (ip, email)'s count: 4 more failures are still only 401s.
    await login('alice@clinic.test', DOCTOR_PASSWORD, other);
    for (let i = 0; i < 4; i++) {
      expect((await call('POST', '/api/auth/login', { ip: other, body: { email: 'alice@clinic.test', password: 'nope-nope' } })).statusCode).toBe(401);
    }
    await login('alice@clinic.test', DOCTOR_PASSWORD);
    expect((await call('POST', '/api/auth/login', { ip, body: { email: 'bob@clinic.test', password: 'x' } })).statusCode).toBe(401);
  });

  it('throttles an address after 20 failures across emails', async () => {
    const ip = freshIp();
    for (let i = 0; i < 20; i++) {
      const res = await call('POST', '/api/auth/login', { ip, body: { email: `probe${i}@clinic.test`, password: 'guess-guess' } });
      expect(res.statusCode).toBe(401);
    }
    const res = await call('POST', '/api/auth/login', { ip, body: { email: 'bob@clinic.test', password: DOCTOR2_PASSWORD } });
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('/me answers the signed-in user, 401 otherwise; logout revokes and clears the cookie', async () => {
    const me = await call('GET', '/api/auth/me', { cookie: doctorCookie });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ user: doctor });
    for (const cookie of [undefined, 'confide_session=', 'confide_session=garbage!!', `confide_session=${'A'.repeat(43)}`, 'x'.repeat(20_000)]) {
      const res = await call('GET', '/api/auth/me', cookie === undefined ? {} : { cookie });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthenticated');
    }
    const cookie = await login('bob@clinic.test', DOCTOR2_PASSWORD);
    expect((await call('GET', '/api/auth/me', { cookie })).statusCode).toBe(200);
    const out = await call('POST', '/api/auth/logout', { cookie });
    expect(out.statusCode).toBe(204);
    expect(setCookieOf(out)).toMatch(/^confide_session=; .*Max-Age=0.*HttpOnly.*SameSite=Strict/);
    expect((await call('GET', '/api/auth/me', { cookie })).statusCode).toBe(401);
    expect((await call('POST', '/api/auth/logout')).statusCode).toBe(204);
  });

  it('rejects malformed login bodies with 400', async () => {
    for (const body of [{}, { email: 'a@b' }, { email: 1, password: 2 }, { email: 'a@b', password: 'x'.repeat(5000) }, { email: 'a@b', password: 'pw', admin: true }]) {
      const res = await call('POST', '/api/auth/login', { body });
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.json().error.code).toBe('bad-request');
    }
  });
});

const adminRoutes: [InjectOptions['method'], string][] = [
  ['GET', '/api/admin/doctors'],
  ['POST', '/api/admin/doctors'],
  ['POST', '/api/admin/doctors/x/disable'],
  ['POST', '/api/admin/doctors/x/enable'],
  ['POST', '/api/admin/consultations'],
  ['GET', '/api/admin/consultations'],
  ['POST', '/api/admin/consultations/aaaaaaaaaaaaaaaa/end'],
];
const doctorRoutes: [InjectOptions['method'], string][] = [
  ['GET', '/api/doctor/consultations'],
  ['GET', '/api/doctor/consultations/aaaaaaaaaaaaaaaa'],
];

describe('access control', () => {
  it('admin endpoints: 401 without a session, 403 for a doctor', async () => {
    for (const [method, url] of adminRoutes) {
      const anon = await call(method, url, { body: { email: 'x@y.z', name: 'x', password: 'x'.repeat(12) } });
      expect(anon.statusCode, `${method} ${url}`).toBe(401);
      expect(anon.json().error.code).toBe('unauthenticated');
      const asDoctor = await call(method, url, { cookie: doctorCookie, body: {} });
      expect(asDoctor.statusCode, `${method} ${url}`).toBe(403);
      expect(asDoctor.json().error.code).toBe('forbidden');
    }
    expect(await h.stores.users.byEmail('x@y.z')).toBeUndefined();
  });

  it('doctor endpoints: 401 without a session, 403 for an admin', async () => {
    for (const [method, url] of doctorRoutes) {
      expect((await call(method, url)).statusCode).toBe(401);
      const asAdmin = await call(method, url, { cookie: adminCookie });
      expect(asAdmin.statusCode).toBe(403);
      expect(asAdmin.json().error.code).toBe('forbidden');
    }
  });

  it('unknown API paths get a JSON 404', async () => {
    const res = await call('GET', '/api/nope', { cookie: adminCookie });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not-found');
  });
});

describe('admin: doctors', () => {
  it('creates a doctor without a password (an enrolment link instead); duplicate email 409; no password field', async () => {
    const res = await call('POST', '/api/admin/doctors', {
      cookie: adminCookie,
      body: { email: 'carol@clinic.test', name: '  Dr Carol  ' },
    });
    expect(res.statusCode).toBe(201);
    const { user, enrolment } = res.json();
    h.secrets.add(enrolment.token);
    expect(user).toMatchObject({ email: 'carol@clinic.test', name: 'Dr Carol', role: 'doctor', disabled: false });
    expect(Object.keys(user).sort()).toEqual(['createdAt', 'disabled', 'email', 'id', 'name', 'role']);
    expect(enrolment.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await h.stores.users.hasPassword(user.id)).toBe(false);

    const dup = await call('POST', '/api/admin/doctors', {
      cookie: adminCookie,
      body: { email: 'CAROL@clinic.test', name: 'Other' },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('duplicate-email');

    // The admin cannot choose a doctor's password at all.
    const withPassword = await call('POST', '/api/admin/doctors', {
      cookie: adminCookie,
      body: { email: 'dan@clinic.test', name: 'Dr Dan', password: 'an admin-chosen password' },
    });
    expect(withPassword.statusCode).toBe(400);
    expect(await h.stores.users.byEmail('dan@clinic.test')).toBeUndefined();

    const list = await call('GET', '/api/admin/doctors', { cookie: adminCookie });
    expect(list.statusCode).toBe(200);
    const emails = (list.json().doctors as User[]).map((d) => d.email);
    expect(emails).toEqual(expect.arrayContaining(['alice@clinic.test', 'bob@clinic.test', 'carol@clinic.test']));
    expect(emails).not.toContain('admin@clinic.test');
  });

  it('rejects hostile payloads with 400 (or 413/415) and creates nothing', async () => {
    const before = await h.stores.users.count();
    const good = { email: 'eve@clinic.test', name: 'Dr Eve' };
    const hostile: unknown[] = [
      { ...good, email: 42 },
      { ...good, name: ['Dr', 'Eve'] },
      { ...good, password: { $gt: '' } },
      { ...good, password: 'eve-password-123' },
      { ...good, email: 'not-an-email' },
      { ...good, email: `${'e'.repeat(20_000)}@clinic.test` },
      { ...good, name: 'N'.repeat(20_000) },
      { ...good, name: '   ' },
      { ...good, name: 'Dr\u0000Eve' },
      { ...good, password: 'p'.repeat(20_000) },
      { ...good, role: 'admin' },
      { ...good, disabled: false },
      null,
      [good],
      'eve',
      42,
    ];
    for (const body of hostile) {
      const res = await call('POST', '/api/admin/doctors', {
        cookie: adminCookie,
        payload: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(res.json().error.code).toBe('bad-request');
      expect(res.json().error.message.length).toBeLessThanOrEqual(300);
    }
    const proto = await call('POST', '/api/admin/doctors', {
      cookie: adminCookie,
      payload: '{"email":"eve@clinic.test","name":"Dr Eve","__proto__":{"role":"admin"}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(proto.statusCode).toBe(400);
    const broken = await call('POST', '/api/admin/doctors', {
      cookie: adminCookie,
      payload: '{"email": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('bad-request');
    const form = await call('POST', '/api/admin/doctors', {
      cookie: adminCookie,
      payload: 'email=eve%40clinic.test&name=Eve',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBe(415);
    expect(form.json().error.code).toBe('unsupported-media-type');
    const huge = await call('POST', '/api/admin/doctors', {
      cookie: adminCookie,
      payload: JSON.stringify({ ...good, name: 'x'.repeat(100_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('payload-too-large');
    expect(await h.stores.users.count()).toBe(before);
    expect(({} as Record<string, unknown>).role).toBeUndefined();
  });

  it('disable signs the doctor out and blocks login; enable lets them log in again', async () => {
    const dave = await h.stores.users.create({ email: 'dave@clinic.test', name: 'Dr Dave', role: 'doctor', password: 'quiet harbour lantern' });
    h.secrets.add('quiet harbour lantern');
    const cookie = await login('dave@clinic.test', 'quiet harbour lantern');
    expect((await call('GET', '/api/doctor/consultations', { cookie })).statusCode).toBe(200);

    expect((await call('POST', `/api/admin/doctors/${dave.id}/disable`, { cookie: adminCookie })).statusCode).toBe(204);
    expect((await h.stores.users.get(dave.id))?.disabled).toBe(true);
    expect((await call('GET', '/api/auth/me', { cookie })).statusCode).toBe(401);
    expect((await call('GET', '/api/doctor/consultations', { cookie })).statusCode).toBe(401);
    const refused = await call('POST', '/api/auth/login', { body: { email: 'dave@clinic.test', password: 'quiet harbour lantern' } });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error.code).toBe('invalid-credentials');

    expect((await call('POST', `/api/admin/doctors/${dave.id}/enable`, { cookie: adminCookie })).statusCode).toBe(204);
    // The old session stays revoked; a new login works.
    expect((await call('GET', '/api/auth/me', { cookie })).statusCode).toBe(401);
    await login('dave@clinic.test', 'quiet harbour lantern');

    // Only doctors: unknown ids and admins are 404.
    expect((await call('POST', '/api/admin/doctors/unknown-id/disable', { cookie: adminCookie })).statusCode).toBe(404);
    expect((await call('POST', `/api/admin/doctors/${admin.id}/disable`, { cookie: adminCookie })).statusCode).toBe(404);
    expect((await call('POST', `/api/admin/doctors/${'x'.repeat(70)}/disable`, { cookie: adminCookie })).statusCode).toBe(400);
    expect((await call('POST', `/api/admin/doctors/${'x'.repeat(500)}/disable`, { cookie: adminCookie })).statusCode).toBe(414);
    expect((await h.stores.users.get(admin.id))?.disabled).toBe(false);
  });
});

describe('admin: consultations', () => {
  let consultationId: string;
  let patientToken: string;

  it('refuses unknown, non-doctor and disabled doctors, and bad fields', async () => {
    const when = new Date(noonToday()).toISOString();
    const frank = await h.stores.users.create({ email: 'frank@clinic.test', name: 'Dr Frank', role: 'doctor', password: 'violet mountain river' });
    h.secrets.add('violet mountain river');
    await h.stores.users.setDisabled(frank.id, true);
    // Validation failures name the field at fault with a code the UI translates.
    const cases: [unknown, number, string, string[]?][] = [
      [{ doctorId: 'no-such-doctor', patientName: 'P', scheduledAt: when }, 404, 'not-found'],
      [{ doctorId: admin.id, patientName: 'P', scheduledAt: when }, 404, 'not-found'],
      [{ doctorId: frank.id, patientName: 'P', scheduledAt: when }, 400, 'doctor-disabled'],
      [{ doctorId: doctor.id, patientName: 'P'.repeat(65), scheduledAt: when }, 400, 'bad-request', ['patientName-invalid']],
      [{ doctorId: doctor.id, patientName: '', scheduledAt: when }, 400, 'bad-request', ['patientName-invalid']],
      [{ doctorId: doctor.id, patientName: 'P', scheduledAt: 'tomorrow' }, 400, 'bad-request', ['scheduledAt-invalid']],
      [{ doctorId: doctor.id, patientName: 'P', scheduledAt: Date.now() }, 400, 'bad-request', ['scheduledAt-invalid']],
      [{ doctorId: doctor.id, patientName: 'P', scheduledAt: '1999-01-01T00:00:00Z' }, 400, 'bad-request', ['scheduledAt-range']],
      [{ doctorId: doctor.id, patientName: '', scheduledAt: '1999-01-01T00:00:00Z' }, 400, 'bad-request', ['patientName-invalid', 'scheduledAt-range']],
      [{ doctorId: doctor.id, patientName: 'P', scheduledAt: when, status: 'ended' }, 400, 'bad-request', []],
      [{ doctorId: doctor.id, patientName: 'P', scheduledAt: when, id: 'aaaaaaaaaaaaaaaa' }, 400, 'bad-request', []],
    ];
    for (const [body, status, code, fields] of cases) {
      const res = await call('POST', '/api/admin/consultations', { cookie: adminCookie, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(res.json().error.code).toBe(code);
      if (fields) expect((res.json().error.fields ?? []).sort(), JSON.stringify(body)).toEqual(fields);
    }
    expect(await h.stores.consultations.list()).toHaveLength(0);
  });

  it('creates a consultation with no patient link in the answer; the doctor makes it (createInvitation)', async () => {
    const scheduledAt = noonToday();
    const res = await call('POST', '/api/admin/consultations', {
      cookie: adminCookie,
      body: { doctorId: doctor.id, patientName: ' Paul Patient ', scheduledAt: new Date(scheduledAt).toISOString() },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    consultationId = body.consultation.id;
    expect(Object.keys(body)).toEqual(['consultation']);
    expect(res.body).not.toMatch(/token/i);
    expect(consultationId).toMatch(/^[a-z0-9]{16}$/);
    expect(body.consultation).toEqual({
      id: consultationId,
      doctorId: doctor.id,
      patientName: 'Paul Patient',
      scheduledAt,
      status: 'scheduled',
      createdBy: admin.id,
      createdAt: expect.any(Number),
      expiresAt: scheduledAt + 24 * 3600 * 1000,
    });
    expect(await h.stores.audit.list(consultationId)).toEqual([{ at: expect.any(Number), event: 'created', actor: `admin:${admin.id}` }]);
    // The doctor's browser asks for the patient token; the admin may not.
    expect((await call('POST', `/api/doctor/consultations/${consultationId}/invitation`, { cookie: adminCookie })).statusCode).toBe(403);
    const invitation = await call('POST', `/api/doctor/consultations/${consultationId}/invitation`, { cookie: doctorCookie });
    expect(invitation.statusCode).toBe(200);
    patientToken = invitation.json().patientToken;
    h.secrets.add(patientToken);
    expect(patientToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await h.stores.consultations.verifyPatientToken(consultationId, patientToken)).toBe('ok');
  });

  it('lists consultations with doctor name and live status, never the token', async () => {
    const second = await h.stores.consultations.create({ doctorId: doctor2.id, patientName: 'Zoe', scheduledAt: noonToday(1), createdBy: admin.id });
    h.secrets.add(second.patientToken);
    h.live.set(consultationId, { connected: [{ role: 'doctor', name: 'Dr Alice' }], waiting: 1 });
    const started = Date.now() - 60_000;
    await h.stores.consultations.setStatus(consultationId, 'in_progress', started);
    const res = await call('GET', '/api/admin/consultations', { cookie: adminCookie });
    expect(res.statusCode).toBe(200);
    const list = res.json().consultations as Record<string, unknown>[];
    expect(list.map((c) => c.id)).toEqual([second.consultation.id, consultationId]); // latest scheduled first
    const mine = list[1]!;
    expect(mine).toMatchObject({
      id: consultationId,
      doctorName: 'Dr Alice',
      status: 'in_progress',
      startedAt: started,
      live: { connected: [{ role: 'doctor', name: 'Dr Alice' }], waiting: 1 },
    });
    expect(mine.durationMs).toBeGreaterThanOrEqual(60_000);
    expect(list[0]).toMatchObject({ doctorName: 'Dr Bob', live: { connected: [], waiting: 0 } });
    expect(list[0]!.durationMs).toBeUndefined();
    expect(res.body).not.toContain(patientToken);
    expect(res.body).not.toContain(second.patientToken);
    expect(res.body).not.toContain(createHash('sha256').update(patientToken).digest('hex'));
    expect(res.body).not.toMatch(/token/i);
  });

  it('end: calls endConsultation, marks it ended, audits once; again → 204 without a second call', async () => {
    const res = await call('POST', `/api/admin/consultations/${consultationId}/end`, { cookie: adminCookie });
    expect(res.statusCode).toBe(204);
    expect(h.ended).toEqual([{ id: consultationId, actor: `admin:${admin.id}` }]);
    const c = (await h.stores.consultations.get(consultationId))!;
    expect(c.status).toBe('ended');
    expect(c.endedAt).toBeGreaterThan(0);
    const again = await call('POST', `/api/admin/consultations/${consultationId}/end`, { cookie: adminCookie });
    expect(again.statusCode).toBe(204);
    expect(h.ended).toHaveLength(1);
    expect((await h.stores.audit.list(consultationId)).filter((e) => e.event === 'ended')).toEqual([
      { at: c.endedAt, event: 'ended', actor: `admin:${admin.id}` },
    ]);
    expect((await h.stores.consultations.get(consultationId))!.endedAt).toBe(c.endedAt);
    expect((await call('POST', '/api/admin/consultations/zzzzzzzzzzzzzzzz/end', { cookie: adminCookie })).statusCode).toBe(404);
    expect((await call('POST', '/api/admin/consultations/../../etc/end', { cookie: adminCookie })).statusCode).toBe(404);
    expect((await call('POST', '/api/admin/consultations/NOT-AN-ID/end', { cookie: adminCookie })).statusCode).toBe(400);
    // Ended: the patient link no longer works.
    expect(await h.stores.consultations.verifyPatientToken(consultationId, patientToken)).toBe('ended');
  });

  it('end: when endConsultation does the bookkeeping itself, it is not doubled', async () => {
    const h2 = await harness({ endDoesBookkeeping: true });
    try {
      const a = await h2.stores.users.create({ email: 'a@c.test', name: 'A', role: 'admin', password: 'amber orchard window' });
      const d = await h2.stores.users.create({ email: 'd@c.test', name: 'D', role: 'doctor', password: 'dusty copper kettle' });
      const token = await h2.stores.sessions.create(a.id);
      const { consultation } = await h2.stores.consultations.create({ doctorId: d.id, patientName: 'P', scheduledAt: Date.now(), createdBy: a.id });
      const res = await h2.app.inject({ method: 'POST', url: `/api/admin/consultations/${consultation.id}/end`, headers: { cookie: `confide_session=${token}` } });
      expect(res.statusCode).toBe(204);
      expect(h2.ended).toHaveLength(1);
      expect((await h2.stores.audit.list(consultation.id)).map((e) => e.event)).toEqual(['ended']);
    } finally {
      await h2.close();
    }
  });
});

describe('doctor dashboard', () => {
  let todayA: string;
  let otherDoctors: string;

  beforeAll(async () => {
    const make = async (doctorId: string, at: number) => {
      const r = await h.stores.consultations.create({ doctorId, patientName: 'Pat', scheduledAt: at, createdBy: admin.id });
      h.secrets.add(r.patientToken);
      return r.consultation.id;
    };
    await make(doctor.id, noonToday(-1));
    todayA = await make(doctor.id, noonToday() + 3600_000);
    await make(doctor.id, noonToday(1));
    otherDoctors = await make(doctor2.id, noonToday());
  });

  it("lists the doctor's own consultations of today only, with live status", async () => {
    h.live.set(todayA, { connected: [{ role: 'patient', name: 'Pat' }], waiting: 0 });
    const res = await call('GET', '/api/doctor/consultations', { cookie: doctorCookie });
    expect(res.statusCode).toBe(200);
    const list = res.json().consultations as { id: string; doctorId: string; scheduledAt: number; live: LiveStatus }[];
    // Today's: the one made through the admin API earlier and todayA (in time order).
    expect(list.map((c) => c.id)).toContain(todayA);
    expect(list.every((c) => c.doctorId === doctor.id)).toBe(true);
    const start = new Date(noonToday()).setHours(0, 0, 0, 0);
    expect(list.every((c) => c.scheduledAt >= start && c.scheduledAt < start + 36 * 3600_000)).toBe(true);
    expect(list).toHaveLength(2);
    expect(list.find((c) => c.id === todayA)!.live).toEqual({ connected: [{ role: 'patient', name: 'Pat' }], waiting: 0 });
    expect(list.map((c) => c.id)).not.toContain(otherDoctors);
  });

  it('takes an explicit from/to range, validated', async () => {
    const from = new Date(noonToday(-1) - 3600_000).toISOString();
    const to = new Date(noonToday(1) + 3600_000).toISOString();
    const res = await call('GET', `/api/doctor/consultations?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { cookie: doctorCookie });
    expect(res.statusCode).toBe(200);
    expect(res.json().consultations).toHaveLength(4);
    for (const q of [`from=${encodeURIComponent(from)}`, `from=${encodeURIComponent(to)}&to=${encodeURIComponent(from)}`, 'from=yesterday&to=today', `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&doctorId=${doctor2.id}`, `from=${encodeURIComponent(from)}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, 'from=2020-01-01T00:00:00Z&to=2021-01-01T00:00:00Z']) {
      const bad = await call('GET', `/api/doctor/consultations?${q}`, { cookie: doctorCookie });
      expect(bad.statusCode, q).toBe(400);
    }
  });

  it("a doctor gets their own consultation; another doctor's is 403; unknown 404", async () => {
    const own = await call('GET', `/api/doctor/consultations/${todayA}`, { cookie: doctorCookie });
    expect(own.statusCode).toBe(200);
    expect(own.json().consultation).toMatchObject({ id: todayA, doctorId: doctor.id, live: { waiting: 0 } });
    const other = await call('GET', `/api/doctor/consultations/${otherDoctors}`, { cookie: doctorCookie });
    expect(other.statusCode).toBe(403);
    expect(other.json().error.code).toBe('forbidden');
    expect((await call('GET', `/api/doctor/consultations/${otherDoctors}`, { cookie: doctor2Cookie })).statusCode).toBe(200);
    expect((await call('GET', '/api/doctor/consultations/zzzzzzzzzzzzzzzz', { cookie: doctorCookie })).statusCode).toBe(404);
  });
});

describe('patient links', () => {
  it('verifies: ok / wrong token / other consultation’s token / ended / expired', async () => {
    const c = h.stores.consultations;
    const a = await c.create({ doctorId: doctor.id, patientName: 'A', scheduledAt: Date.now(), createdBy: admin.id });
    const b = await c.create({ doctorId: doctor.id, patientName: 'B', scheduledAt: Date.now(), createdBy: admin.id });
    const old = await c.create({ doctorId: doctor.id, patientName: 'Old', scheduledAt: Date.now() - 25 * 3600_000, createdBy: admin.id });
    for (const t of [a.patientToken, b.patientToken, old.patientToken]) h.secrets.add(t);
    expect(await c.verifyPatientToken(a.consultation.id, a.patientToken)).toBe('ok');
    expect(await c.verifyPatientToken(a.consultation.id, b.patientToken)).toBe('invalid');
    expect(await c.verifyPatientToken(b.consultation.id, a.patientToken)).toBe('invalid');
    const last = a.patientToken.slice(-1);
    expect(await c.verifyPatientToken(a.consultation.id, `${a.patientToken.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`)).toBe('invalid');
    expect(await c.verifyPatientToken(a.consultation.id, '')).toBe('invalid');
    expect(await c.verifyPatientToken(a.consultation.id, 'x'.repeat(10_000))).toBe('invalid');
    expect(await c.verifyPatientToken(a.consultation.id, 42 as unknown as string)).toBe('invalid');
    expect(await c.verifyPatientToken('zzzzzzzzzzzzzzzz', a.patientToken)).toBe('invalid');
    expect(await c.verifyPatientToken(old.consultation.id, old.patientToken)).toBe('expired');
    expect(await c.verifyPatientToken(old.consultation.id, a.patientToken)).toBe('invalid'); // state not revealed
    await c.setStatus(b.consultation.id, 'ended');
    expect(await c.verifyPatientToken(b.consultation.id, b.patientToken)).toBe('ended');
    await c.setStatus(b.consultation.id, 'in_progress');
    expect((await c.get(b.consultation.id))?.status).toBe('ended'); // final
  });
});

describe('secrets', () => {
  it('no answer carries a password, a password hash, a token hash or a token after it was issued', () => {
    expect(h.bodies.length).toBeGreaterThan(50);
    const all = h.bodies.join('\n');
    expect(all).not.toContain('scrypt$');
    expect(all).not.toMatch(/password_?hash|token_?hash/i);
    for (const secret of h.secrets) {
      const hash = createHash('sha256').update(secret).digest('hex');
      expect(all).not.toContain(hash);
    }
    for (const p of [ADMIN_PASSWORD, DOCTOR_PASSWORD, DOCTOR2_PASSWORD, 'carol-password-123', 'quiet harbour lantern']) {
      expect(all).not.toContain(p);
    }
    // A patient token appears in exactly one answer: its creation.
    for (const body of h.bodies.filter((b) => b.includes('"patientToken"'))) {
      const token = (JSON.parse(body) as { patientToken: string }).patientToken;
      expect(h.bodies.filter((b) => b.includes(token))).toHaveLength(1);
    }
  });

  it('no log line carries a password or a token', () => {
    const logs = h.logs.join('');
    expect(logs).toContain('signed in'); // the capture works
    expect(logs).toContain('incoming request');
    for (const secret of h.secrets) expect(logs).not.toContain(secret);
    expect(logs).not.toContain('scrypt$');
    expect(logs).not.toMatch(/confide_session=/);
  });
});
