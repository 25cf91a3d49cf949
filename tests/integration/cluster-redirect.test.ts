// Several nodes (issue 16): two Confide nodes share one PostgreSQL and one
// Redis. A consultation's room goes to one node; a participant whose socket
// lands on the other is redirected there — a doctor with a single-use staff
// ticket, since the clinic origin's cookie never reaches a node's own origin.
// Staff actions taken on one node (end, replacing the link, logout) reach the
// hosting node, and either node's console shows the call live.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { io } from 'socket.io-client';
import { connectSocket, send } from '../support/socket-client.ts';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { waitFor } from '../e2e/support/browser.ts';
import { startRedis, type RunningRedis } from '../support/redis.ts';
import { startPostgres, type RunningPostgres } from '../support/postgres.ts';
import { freePort } from '../support/nginx.ts';

let redis: RunningRedis;
let pg: RunningPostgres;
let a: ConfideServer;
let b: ConfideServer;
const sockets: Socket[] = [];
const PREFIX = 'confide-redirect:';

async function connect(url: string, session?: string): Promise<Socket> {
  const s = await connectSocket(url, session);
  sockets.push(s);
  return s;
}

/** A socket that presents a staff ticket at the handshake, as the browser does after a redirect. */
function withTicket(url: string, ticket: string): Promise<Socket> {
  const s = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { ticket } });
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

type Redirect = { nodeId: string; url: string; ticket?: string };
const redirectOf = (ack: { error?: { code: string; redirect?: Redirect } }) => {
  expect(ack.error?.code).toBe('elsewhere');
  return ack.error!.redirect!;
};

beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  const db = await pg.createDatabase();
  const [portA, portB] = [await freePort(), await freePort()];
  const urlA = `http://127.0.0.1:${portA}`;
  const urlB = `http://127.0.0.1:${portB}`;
  const node = (id: string, port: number, url: string) =>
    startTestServer(
      {
        CONFIDE_PORT: String(port),
        CONFIDE_HOST: '127.0.0.1',
        CONFIDE_DATABASE_URL: db,
        CONFIDE_REDIS_URL: redis.url,
        CONFIDE_NODE_ID: id,
        CONFIDE_PUBLIC_URL: url,
        CONFIDE_ORIGINS: `${urlA},${urlB}`,
      },
      { cluster: { prefix: PREFIX } },
    );
  // node-a first: on a tie in load, the registry places new rooms on the lower id.
  a = await node('node-a', portA, urlA);
  b = await node('node-b', portB, urlB);
  await waitFor('both nodes announced', () => a.cluster!.registry.liveNodes(), (n) => n.length === 2);
}, 120_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await b?.close();
  await a?.close();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

const withTimeout = <T>(p: Promise<T>, message: string, ms = 5_000): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(message)), ms))]);

/** A call hosted on A: the doctor redirected there from B with a ticket, the patient admitted there. */
async function callOnA(): Promise<{ c: TestConsultation; doctor: Socket; patient: Socket }> {
  // New rooms go to the least-loaded node (ties to the lower id): wait for A's heartbeat to say it is.
  await waitFor('node A is the least loaded', () => b.cluster!.registry.leastLoaded(), (n) => n?.id === 'node-a');
  const c = await TestConsultation.create(a);
  const r = redirectOf(await send(await connect(b.url, c.doctorSession), 'join', { roomId: c.id, displayName: 'Dr' }));
  const doctor = await withTicket(r.url, r.ticket!);
  expect((await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' })).ok).toBe(true);
  const patient = await connect(a.url);
  expect((await send(patient, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
  expect((await send(doctor, 'admit', { requestId: a.consultations.waitingList(c.id)[0]!.requestId })).ok).toBe(true);
  expect((await send(patient, 'join', { roomId: c.id, displayName: 'Zoé' })).ok).toBe(true);
  return { c, doctor, patient };
}

describe('a consultation on two nodes', () => {
  it('the doctor on node B is redirected to node A with a ticket that works once, on A only; the patient follows; the call is on A', async () => {
    const c = await TestConsultation.create(a);
    const onB = await connect(b.url, c.doctorSession);
    const r = redirectOf(await send(onB, 'join', { roomId: c.id, displayName: 'Dr' }));
    expect(r).toMatchObject({ nodeId: 'node-a', url: a.url });
    expect(r.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.rooms.peek(c.id)).toBeUndefined();

    // Redis keeps the ticket's hash only. On node B (not its node) it is refused, and that spends it.
    const kept = await b.cluster!.redis.keys(`${PREFIX}ticket:*`);
    expect(kept).toHaveLength(1);
    expect(kept[0]).not.toContain(r.ticket!);
    const wrongNode = await withTicket(b.url, r.ticket!);
    expect((await send(wrongNode, 'join', { roomId: c.id, displayName: 'Dr' })).error?.code).toBe('unauthenticated');
    expect(await b.cluster!.redis.keys(`${PREFIX}ticket:*`)).toHaveLength(0);

    // A fresh redirect's ticket, on A: the doctor joins there with no cookie at all.
    const again = redirectOf(await send(onB, 'join', { roomId: c.id, displayName: 'Dr' }));
    const doctor = await withTicket(a.url, again.ticket!);
    const joined = await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' });
    expect(joined.ok).toBe(true);
    expect((joined.data as { role: string }).role).toBe('doctor');
    // Used once: a second handshake with it is a stranger.
    const replay = await withTicket(a.url, again.ticket!);
    expect((await send(replay, 'join', { roomId: c.id, displayName: 'Dr' })).error?.code).toBe('unauthenticated');

    // The patient's link, entered on B, leads to A (no ticket: a patient has no session).
    const patientOnB = await connect(b.url);
    const pr = redirectOf(await send(patientOnB, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' }));
    expect(pr).toEqual({ nodeId: 'node-a', url: a.url });
    const patient = await connect(a.url);
    expect((await send(patient, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
    const requestId = a.consultations.waitingList(c.id)[0]!.requestId;
    expect((await send(doctor, 'admit', { requestId })).ok).toBe(true);
    expect((await send(patient, 'join', { roomId: c.id, displayName: 'Zoé' })).ok).toBe(true);
    expect(a.rooms.peek(c.id)?.peerCount).toBe(2);

    // Node B's console sees the call live (the hosting node publishes it).
    await waitFor('node B shows the call live', async () => b.consultations.live(c.id), (l) => l.connected.length === 2);
    expect(b.consultations.live(c.id).connected.map((p) => p.role).sort()).toEqual(['doctor', 'patient']);
    for (const s of [doctor, patient]) s.close();

  });

  it('staff actions taken on node B reach the room on node A: a new patient link, the end, a logout', async () => {
    const { c, doctor, patient } = await callOnA();
    const admin = await a.stores.users.create({ email: `admin-${Date.now()}@clinic.test`, name: 'Admin', role: 'admin', password: 'console admin passphrase' });
    const adminCookie = `confide_session=${await a.stores.sessions.create(admin.id)}`;
    const doctorCookie = `confide_session=${c.doctorSession}`;

    // A new patient link made on B turns away whoever waits on A with the old one.
    const waiter = await connect(a.url);
    expect((await send(waiter, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
    const declined = new Promise<void>((resolve) => waiter.once('declined', () => resolve()));
    expect((await fetch(`${b.url}/api/doctor/consultations/${c.id}/invitation`, { method: 'POST', headers: { cookie: doctorCookie } })).status).toBe(200);
    await withTimeout(declined, 'the waiting patient on A was not turned away');

    // Ended through B: the patient on A is told and the room on A closes.
    const ended = new Promise<void>((resolve) => patient.once('consultationEnded', () => resolve()));
    expect((await fetch(`${b.url}/api/admin/consultations/${c.id}/end`, { method: 'POST', headers: { cookie: adminCookie } })).status).toBe(204);
    await withTimeout(ended, 'the patient on A was not told of the end');
    await waitFor('the room on A closed', async () => a.rooms.peek(c.id), (r) => r === undefined || r.isClosed);

    // The doctor signs out through B: the socket on A (opened with a ticket) is cut.
    const cut = new Promise<string>((resolve) => doctor.once('disconnect', (reason) => resolve(reason)));
    expect((await fetch(`${b.url}/api/auth/logout`, { method: 'POST', headers: { cookie: doctorCookie } })).status).toBe(204);
    expect(await withTimeout(cut, 'the doctor\'s socket on A stayed open')).toBe('io server disconnect');
  });

  it('an invalid patient link makes no room land anywhere: no registry entry, a plain refusal', async () => {
    const c = await TestConsultation.create(a);
    const s = await connect(b.url);
    const ack = await send(s, 'enterWaitingRoom', { consultationId: c.id, token: 'x'.repeat(43), displayName: 'Mallory' });
    expect(ack.error?.code).toBe('forbidden');
    expect(await a.cluster!.registry.lookup(c.id)).toBeUndefined();
  });
});
