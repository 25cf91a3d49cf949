// The staff API's newer contract, through fastify's inject: the patient's
// link check (one 'invalid' answer, per-address limit, no token in logs), the
// console's statuses after abandonment and expiry with durations that stop,
// and answers that carry only what their schema declares.
import pino from 'pino';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, type Harness } from '../support/api-harness.ts';
import { Consultations } from '../../server/consultations/consultations.ts';
import type { RoomRegistry } from '../../server/rooms/room-registry.ts';
import type { PeerInfo } from '../../shared/protocol/signalling.ts';
import type { User } from '../../server/store/users.ts';
import type { LiveStatus } from '../../shared/protocol/staff-api.ts';
import { NO_SHOW_AFTER_MS } from '../../server/consultations/consultation-status.ts';

const HOUR = 3600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rooms as Consultations sees them: only who is in each. */
const peers = new Map<string, PeerInfo[]>();
const rooms = {
  peek: (id: string) => (peers.has(id) ? { peerInfos: () => peers.get(id)!, notifyRole: () => undefined } : undefined),
  get: async () => undefined,
} as unknown as RoomRegistry;
/** A field the schema does not declare, slipped into every live status: it must never be answered. */
let smuggle = false;

let h: Harness;
let consultations: Consultations;
let admin: User;
let doctor: User;
let adminCookie: string;
let doctorCookie: string;

beforeAll(async () => {
  h = await harness({
    endDoesBookkeeping: true,
    linkCheckPerMinute: 5,
    live: (id) => {
      const live = consultations.live(id);
      return smuggle ? ({ ...live, roomSecret: 'smuggled-value' } as LiveStatus) : live;
    },
  });
  consultations = new Consultations(h.stores, rooms, pino({ level: 'silent' }));
  admin = await h.stores.users.create({ email: 'admin@c.test', name: 'Admin', role: 'admin', password: 'admin console sunrise' });
  doctor = await h.stores.users.create({ email: 'martin@c.test', name: 'Dr Martin', role: 'doctor', password: 'quiet waiting room plant' });
  adminCookie = `confide_session=${await h.stores.sessions.create(admin.id)}`;
  doctorCookie = `confide_session=${await h.stores.sessions.create(doctor.id)}`;
});
afterAll(async () => {
  await h?.close();
});

let ipCounter = 0;
async function post(url: string, body: unknown, ip = `10.9.0.${++ipCounter}`): Promise<LightMyRequestResponse> {
  const res = await h.app.inject({ method: 'POST', url, payload: body as object, remoteAddress: ip });
  h.bodies.push(res.body);
  return res;
}
async function get(url: string, cookie: string): Promise<LightMyRequestResponse> {
  const res = await h.app.inject({ method: 'GET', url, headers: { cookie } });
  h.bodies.push(res.body);
  return res;
}
const make = async (scheduledAt: number, patientName = 'Camille') =>
  await h.stores.consultations.create({ doctorId: doctor.id, patientName, scheduledAt, createdBy: admin.id });
const row = async (id: string) =>
  ((await get('/api/admin/consultations', adminCookie)).json().consultations as Record<string, unknown>[]).find((c) => c.id === id)!;

describe('patient link check', () => {
  it('tells a working link with whom and when; nothing for a wrong token or an unknown id but one same "invalid"', async () => {
    const scheduledAt = Date.now() + HOUR;
    const { consultation, patientToken } = await make(scheduledAt);
    const other = await make(scheduledAt);
    h.secrets.add(patientToken).add(other.patientToken);
    const ok = await post('/api/patient/link-check', { consultationId: consultation.id, token: patientToken });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ state: 'ok', doctorName: 'Dr Martin', scheduledAt });
    expect(ok.headers['cache-control']).toBe('no-store');

    const invalid = [
      { consultationId: consultation.id, token: other.patientToken }, // another consultation's token
      { consultationId: consultation.id, token: `${patientToken.slice(0, -1)}${patientToken.endsWith('A') ? 'B' : 'A'}` },
      { consultationId: 'zzzzzzzzzzzzzzzz', token: patientToken }, // unknown id
      { consultationId: 'NOT AN ID', token: patientToken },
      { consultationId: consultation.id, token: '' },
    ];
    const answers = [];
    for (const body of invalid) {
      const res = await post('/api/patient/link-check', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(200);
      answers.push(res.body);
    }
    expect(new Set(answers)).toEqual(new Set(['{"state":"invalid"}']));
  });

  it('says "expired" and "ended" to the holder of the token only', async () => {
    const old = await make(Date.now() - 25 * HOUR);
    const done = await make(Date.now());
    h.secrets.add(old.patientToken).add(done.patientToken);
    await consultations.end(done.consultation.id, `admin:${admin.id}`);
    const check = async (id: string, token: string) => (await post('/api/patient/link-check', { consultationId: id, token })).json();
    expect(await check(old.consultation.id, old.patientToken)).toMatchObject({ state: 'expired', doctorName: 'Dr Martin' });
    expect(await check(done.consultation.id, done.patientToken)).toMatchObject({ state: 'ended', scheduledAt: done.consultation.scheduledAt });
    expect(await check(old.consultation.id, done.patientToken)).toEqual({ state: 'invalid' });
    expect(await check(done.consultation.id, old.patientToken)).toEqual({ state: 'invalid' });
  });

  it('refuses malformed bodies with 400 and limits each address (429 rate-limited, Retry-After)', async () => {
    for (const body of [{}, { consultationId: 1, token: 'x' }, { consultationId: 'a', token: 'x'.repeat(300) }, { consultationId: 'a', token: 'b', extra: 1 }]) {
      const res = await post('/api/patient/link-check', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('bad-request');
    }
    const ip = '10.99.0.1';
    const body = { consultationId: 'zzzzzzzzzzzzzzzz', token: 'guess-guess-guess' };
    for (let i = 0; i < 5; i++) expect((await post('/api/patient/link-check', body, ip)).statusCode).toBe(200);
    const limited = await post('/api/patient/link-check', body, ip);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate-limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await post('/api/patient/link-check', body, '10.99.0.2')).statusCode).toBe(200);
  });
});

describe('console statuses', () => {
  it('in progress while someone is connected; interrupted once everybody left, with a duration that stopped', async () => {
    const { consultation } = await make(Date.now());
    const id = consultation.id;
    const doctorPeer: PeerInfo = { peerId: 'd', participantId: 'pd', displayName: 'Dr Martin', role: 'doctor', slot: 0 };
    const patientPeer: PeerInfo = { peerId: 'p', participantId: 'pp', displayName: 'Camille', role: 'patient', slot: 1 };
    const grant = (p: PeerInfo) => ({ role: p.role, name: p.displayName, participantId: p.participantId, rejoined: false });
    peers.set(id, [doctorPeer]);
    await consultations.joined(id, grant(doctorPeer), `doctor:${doctor.id}`);
    expect(await row(id)).toMatchObject({ status: 'scheduled', endable: true }); // the doctor alone has not started it
    peers.set(id, [doctorPeer, patientPeer]);
    await consultations.joined(id, grant(patientPeer), 'patient');
    await sleep(30);
    const live = await row(id);
    expect(live).toMatchObject({ status: 'in_progress', endable: true, live: { connected: [{ name: 'Dr Martin' }, { name: 'Camille' }] } });
    expect(live.durationMs).toBeGreaterThanOrEqual(30);

    peers.set(id, [doctorPeer]);
    await consultations.left(id, 'patient');
    expect((await row(id)).status).toBe('in_progress'); // the doctor is still there
    peers.set(id, [{ ...doctorPeer, reconnecting: true }]);
    expect(await row(id)).toMatchObject({ status: 'in_progress', live: { connected: [{ name: 'Dr Martin', reconnecting: true }] } });
    peers.delete(id);
    await consultations.left(id, `doctor:${doctor.id}`);
    const stopped = await row(id);
    expect(stopped).toMatchObject({ status: 'interrupted', endable: true, live: { connected: [] } });
    await sleep(40);
    expect((await row(id)).durationMs).toBe(stopped.durationMs);

    // Someone comes back: in progress again, the duration runs again.
    peers.set(id, [{ ...patientPeer, peerId: 'p2' }]);
    await consultations.joined(id, { ...grant(patientPeer), rejoined: true }, 'patient');
    await sleep(20);
    const again = await row(id);
    expect(again.status).toBe('in_progress');
    expect(again.durationMs as number).toBeGreaterThan(stopped.durationMs as number);
    peers.delete(id);
    await consultations.left(id, 'patient');
    expect((await row(id)).status).toBe('interrupted');
  });

  it('no-show and expired once the time has passed, without End; ended is final', async () => {
    const late = await make(Date.now() - NO_SHOW_AFTER_MS - 1000);
    expect(await row(late.consultation.id)).toMatchObject({ status: 'no_show', endable: true });
    const past = await make(Date.now() - 25 * HOUR);
    expect(await row(past.consultation.id)).toMatchObject({ status: 'no_show', endable: false });
    const now = Date.now();
    const abandoned = await make(now - 25 * HOUR);
    await h.stores.consultations.setStatus(abandoned.consultation.id, 'in_progress', now - 25 * HOUR);
    await h.stores.consultations.setEmptiedAt(abandoned.consultation.id, now - 24.5 * HOUR);
    expect(await row(abandoned.consultation.id)).toMatchObject({ status: 'expired', endable: false, durationMs: 0.5 * HOUR });

    const ended = await make(Date.now());
    expect((await post(`/api/admin/consultations/${ended.consultation.id}/end`, undefined)).statusCode).toBe(401);
    const res = await h.app.inject({ method: 'POST', url: `/api/admin/consultations/${ended.consultation.id}/end`, headers: { cookie: adminCookie } });
    expect(res.statusCode).toBe(204);
    expect(await row(ended.consultation.id)).toMatchObject({ status: 'ended', endable: false });
    // The doctor link's check before the device check sees the same.
    const mine = await get(`/api/doctor/consultations/${ended.consultation.id}`, doctorCookie);
    expect(mine.json().consultation).toMatchObject({ status: 'ended', endable: false });
  });
});

describe('answers', () => {
  it('carry only what their schema declares', async () => {
    const { consultation } = await make(Date.now());
    smuggle = true;
    try {
      const list = await get('/api/admin/consultations', adminCookie);
      const one = await get(`/api/doctor/consultations/${consultation.id}`, doctorCookie);
      for (const res of [list, one]) {
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toContain('smuggled-value');
        expect(res.body).not.toMatch(/emptiedAt|token/i);
      }
    } finally {
      smuggle = false;
    }
  });

  it('never carry a patient token, nor log one (the link check gets it in its body)', () => {
    const all = h.bodies.join('\n');
    const logs = h.logs.join('');
    expect(logs).toContain('incoming request'); // the capture works
    expect(h.secrets.size).toBeGreaterThan(3);
    for (const secret of h.secrets) {
      expect(all).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});
