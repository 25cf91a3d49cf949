// Issue 12, item 8: the clinic admin can no longer become a doctor. Doctors
// set their own password through a one-time, expiring enrolment link (stored
// hashed); a reset is another link and ends the doctor's sessions; the
// password policy refuses guessable passwords; and the patient link is made
// by the doctor (a token only the doctor's browser receives), so the admin
// never holds a patient link or a room secret.
import { createHash } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/store/users.ts';
import { readSessionToken } from '../../server/auth/session-cookie.ts';
import { harness, type Harness } from '../support/api-harness.ts';
import { HashGate } from '../../server/auth/hash-gate.ts';

const ADMIN_PASSWORD = 'the admin passphrase, long';
const DOCTOR_PASSWORD = 'my own secret that nobody else knows';

// One hashing slot and one place in the queue: a test fills both to get a 429 (as sign-ins in flight would).
const gate = new HashGate({ active: 1, queued: 1 });
let h: Harness;
let admin: User;
let adminCookie: string;
let ip = 0;

async function call(method: InjectOptions['method'], url: string, o: { cookie?: string; body?: unknown } = {}): Promise<LightMyRequestResponse> {
  const res = await h.app.inject({
    method,
    url,
    headers: o.cookie ? { cookie: o.cookie } : {},
    remoteAddress: `10.9.0.${++ip % 250}`,
    ...(o.body !== undefined ? { payload: o.body as object } : {}),
  });
  h.bodies.push(res.body);
  return res;
}

function cookieOf(res: LightMyRequestResponse): string {
  const raw = res.headers['set-cookie'];
  const token = readSessionToken(String(Array.isArray(raw) ? raw[0] : raw).split(';')[0]);
  if (!token) throw new Error('no session cookie');
  return `confide_session=${token}`;
}

const login = (email: string, password: string) => call('POST', '/api/auth/login', { body: { email, password } });

beforeAll(async () => {
  h = await harness({ hashGate: gate });
  admin = await h.stores.users.create({ email: 'admin@clinic.test', name: 'Ada Admin', role: 'admin', password: ADMIN_PASSWORD });
  adminCookie = cookieOf(await login('admin@clinic.test', ADMIN_PASSWORD));
});
afterAll(async () => {
  await h.close();
});

describe('enrolment links', () => {
  let doctorId: string;
  let link: string;

  it('a new doctor has no password until they follow their link; the link says whose it is', async () => {
    const res = await call('POST', '/api/admin/doctors', { cookie: adminCookie, body: { email: 'claire@clinic.test', name: 'Dr Claire Martin' } });
    expect(res.statusCode).toBe(201);
    doctorId = res.json().user.id;
    link = res.json().enrolment.token;
    expect(res.json().enrolment.expiresAt).toBeGreaterThan(Date.now() + 71 * 3600_000);
    // Only the link's hash is stored.
    const row = await h.stores.db.kysely.selectFrom('enrolments').select('token_hash').where('user_id', '=', doctorId).executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(createHash('sha256').update(link).digest('hex'));
    // No password yet: nothing signs in, not even an empty or "!" one.
    for (const guess of ['!', ' ', 'x'.repeat(12), ADMIN_PASSWORD]) expect((await login('claire@clinic.test', guess)).statusCode).toBe(401);

    const check = await call('POST', '/api/auth/enrolment/check', { body: { token: link } });
    expect(check.json()).toEqual({ state: 'ok', email: 'claire@clinic.test', name: 'Dr Claire Martin', expiresAt: expect.any(Number) });
    for (const token of ['A'.repeat(43), 'nope', link.slice(1)]) {
      expect((await call('POST', '/api/auth/enrolment/check', { body: { token } })).json()).toEqual({ state: 'invalid' });
    }
  });

  it('refuses a guessable password without using the link up', async () => {
    const cases: [string, string, string][] = [
      ['short pw', 'bad-request', 'password-too-short'],
      ['aaaaaaaaaaaaaaaa', 'weak-password', 'password-weak'],
      ['password12345678', 'weak-password', 'password-weak'],
      ['P@ssw0rd2024!!', 'weak-password', 'password-weak'],
      ['azertyuiop1234', 'weak-password', 'password-weak'],
      ['claire.martin.1987', 'weak-password', 'password-weak'],
    ];
    for (const [password, code, field] of cases) {
      const res = await call('POST', '/api/auth/enrolment', { body: { token: link, password } });
      expect(res.statusCode, password).toBe(400);
      expect(res.json().error, password).toMatchObject({ code, fields: [field] });
    }
    expect((await h.stores.enrolments.peek(link))?.userId).toBe(doctorId);
  });

  it('sets the doctor’s own password once, signs them in; the admin never sees it', async () => {
    const res = await call('POST', '/api/auth/enrolment', { body: { token: link, password: DOCTOR_PASSWORD } });
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toMatchObject({ id: doctorId, role: 'doctor' });
    const session = cookieOf(res);
    expect((await call('GET', '/api/auth/me', { cookie: session })).json().user.id).toBe(doctorId);
    // Used up: a second use, or a check, finds nothing.
    const again = await call('POST', '/api/auth/enrolment', { body: { token: link, password: 'another fine passphrase' } });
    expect(again.statusCode).toBe(410);
    expect(again.json().error.code).toBe('invalid-link');
    expect((await call('POST', '/api/auth/enrolment/check', { body: { token: link } })).json()).toEqual({ state: 'invalid' });
    expect((await login('claire@clinic.test', DOCTOR_PASSWORD)).statusCode).toBe(200);
    // Nothing the admin can read carries it: no answer, no log line, and the database holds a scrypt hash.
    const adminView = await call('GET', '/api/admin/doctors', { cookie: adminCookie });
    for (const text of [adminView.body, ...h.logs]) expect(text).not.toContain(DOCTOR_PASSWORD);
    const stored = await h.stores.db.kysely.selectFrom('users').select('password_hash as p').where('id', '=', doctorId).executeTakeFirstOrThrow();
    expect(stored.p).toMatch(/^scrypt\$\d+\$8\$1\$/);
    expect(stored.p).not.toContain(DOCTOR_PASSWORD);
  });

  it('two concurrent uses of one link: exactly one wins', async () => {
    const res = await call('POST', '/api/admin/doctors', { cookie: adminCookie, body: { email: 'race@clinic.test', name: 'Dr Race' } });
    const token = res.json().enrolment.token as string;
    const answers = await Promise.all(
      ['first racing passphrase', 'second racing passphrase'].map((password) => call('POST', '/api/auth/enrolment', { body: { token, password } })),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 410]);
  });

  it('a 429 while sign-ins fill the hashing slots does not use the link up', async () => {
    const res = await call('POST', '/api/admin/doctors', { cookie: adminCookie, body: { email: 'busy@clinic.test', name: 'Dr Busy' } });
    const token = res.json().enrolment.token as string;
    const releases: (() => void)[] = [];
    const held = ['someone signing in', 'someone else'].map((who) => gate.run(who, () => new Promise<void>((r) => releases.push(r))));
    await new Promise((r) => setImmediate(r));
    try {
      const refused = await call('POST', '/api/auth/enrolment', { body: { token, password: 'patient passphrase here' } });
      expect(refused.statusCode).toBe(429);
      expect((await call('POST', '/api/auth/enrolment/check', { body: { token } })).json().state).toBe('ok');
    } finally {
      // The queued one starts when the first ends.
      for (const [i, h] of held.entries()) {
        while (!releases[i]) await new Promise((r) => setImmediate(r));
        releases[i]!();
        await h;
      }
    }
    expect((await call('POST', '/api/auth/enrolment', { body: { token, password: 'patient passphrase here' } })).statusCode).toBe(200);
  });

  it('an expired link, or one replaced by a newer link, does not work', async () => {
    const res = await call('POST', '/api/admin/doctors', { cookie: adminCookie, body: { email: 'late@clinic.test', name: 'Dr Late' } });
    const first = res.json().enrolment.token as string;
    const userId = res.json().user.id as string;
    const second = (await call('POST', `/api/admin/doctors/${userId}/reset`, { cookie: adminCookie })).json().enrolment.token as string;
    expect((await call('POST', '/api/auth/enrolment', { body: { token: first, password: DOCTOR_PASSWORD } })).statusCode).toBe(410);
    await h.stores.db.kysely.updateTable('enrolments').set({ expires_at: Date.now() - 1 }).where('user_id', '=', userId).execute();
    expect((await call('POST', '/api/auth/enrolment', { body: { token: second, password: DOCTOR_PASSWORD } })).statusCode).toBe(410);
  });

  it('a reset ends the doctor’s sessions and old password; the new link sets a new one', async () => {
    const before = cookieOf(await login('claire@clinic.test', DOCTOR_PASSWORD));
    // Only admins reset, only doctors are reset.
    expect((await call('POST', `/api/admin/doctors/${doctorId}/reset`, { cookie: before })).statusCode).toBe(403);
    expect((await call('POST', `/api/admin/doctors/${admin.id}/reset`, { cookie: adminCookie })).statusCode).toBe(404);
    const revoked: string[] = [];
    const off = h.stores.sessions.onRevoked((r) => revoked.push(r.kind === 'user' ? r.userId : r.tokenHash));
    const reset = await call('POST', `/api/admin/doctors/${doctorId}/reset`, { cookie: adminCookie });
    off();
    expect(reset.statusCode).toBe(200);
    expect(revoked).toContain(doctorId); // open sockets hear it (tests/integration/socket-authority.test.ts)
    expect((await call('GET', '/api/auth/me', { cookie: before })).statusCode).toBe(401);
    expect((await login('claire@clinic.test', DOCTOR_PASSWORD)).statusCode).toBe(401);
    const token = reset.json().enrolment.token as string;
    expect((await call('POST', '/api/auth/enrolment', { body: { token, password: 'a brand new passphrase' } })).statusCode).toBe(200);
    expect((await login('claire@clinic.test', 'a brand new passphrase')).statusCode).toBe(200);
  });

  it('a disabled doctor’s link does not work', async () => {
    const res = await call('POST', '/api/admin/doctors', { cookie: adminCookie, body: { email: 'off@clinic.test', name: 'Dr Off' } });
    await h.stores.users.setDisabled(res.json().user.id, true);
    const token = res.json().enrolment.token as string;
    expect((await call('POST', '/api/auth/enrolment/check', { body: { token } })).json()).toEqual({ state: 'invalid' });
    expect((await call('POST', '/api/auth/enrolment', { body: { token, password: DOCTOR_PASSWORD } })).statusCode).toBe(410);
  });
});

describe('the patient link is the doctor’s to make', () => {
  it('the admin schedules without a token; the doctor gets one, and a new one replaces it', async () => {
    const doctor = (await h.stores.users.byEmail('claire@clinic.test'))!;
    const doctorCookie = cookieOf(await login('claire@clinic.test', 'a brand new passphrase'));
    const created = await call('POST', '/api/admin/consultations', {
      cookie: adminCookie,
      body: { doctorId: doctor.id, patientName: 'Camille', scheduledAt: new Date().toISOString() },
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toMatch(/token/i);
    const id = created.json().consultation.id as string;
    const url = `/api/doctor/consultations/${id}/invitation`;

    const first = (await call('POST', url, { cookie: doctorCookie })).json().patientToken as string;
    expect(await h.stores.consultations.verifyPatientToken(id, first)).toBe('ok');
    const second = (await call('POST', url, { cookie: doctorCookie })).json().patientToken as string;
    expect(await h.stores.consultations.verifyPatientToken(id, first)).toBe('invalid');
    expect(await h.stores.consultations.verifyPatientToken(id, second)).toBe('ok');
    expect((await h.stores.audit.list(id)).filter((e) => e.event === 'invited')).toHaveLength(2);

    // Not the admin, not another doctor, not an ended consultation.
    expect((await call('POST', url, { cookie: adminCookie })).statusCode).toBe(403);
    const other = await h.stores.users.create({ email: 'other@clinic.test', name: 'Dr Other', role: 'doctor', password: 'other doctor passphrase' });
    const otherCookie = `confide_session=${await h.stores.sessions.create(other.id)}`;
    expect((await call('POST', url, { cookie: otherCookie })).statusCode).toBe(403);
    expect((await call('POST', '/api/doctor/consultations/zzzzzzzzzzzzzzzz/invitation', { cookie: doctorCookie })).statusCode).toBe(404);
    await h.stores.consultations.setStatus(id, 'ended');
    const closed = await call('POST', url, { cookie: doctorCookie });
    expect(closed.statusCode).toBe(409);
    expect(closed.json().error.code).toBe('consultation-closed');
    expect(await h.stores.consultations.verifyPatientToken(id, second)).toBe('ended');
    // The admin's answers never carried a patient token.
    const adminList = await call('GET', '/api/admin/consultations', { cookie: adminCookie });
    for (const t of [first, second]) expect(adminList.body).not.toContain(t);
  });
});
