// Issue 12, item 2: a signalling connection keeps no authority its staff
// session lost. A doctor's socket opened before logout, before the admin
// disabled the account or reset its password, or before the session expired,
// can no longer join, admit or end anything: it is disconnected, its place in
// the call ends (held or not), and its cookie cannot bring it back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { connectSocket, send } from '../support/socket-client.ts';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { waitFor } from '../e2e/support/browser.ts';

let server: ConfideServer;
const sockets: Socket[] = [];
let adminCookie: string;

async function connect(session?: string): Promise<Socket> {
  const socket = await connectSocket(server.url, session);
  sockets.push(socket);
  return socket;
}

function api(path: string, cookie: string): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'POST', headers: { cookie } });
}

/** Resolves with the disconnect reason; rejects if the server keeps the socket for 10 s. */
const disconnected = (s: Socket) =>
  new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the socket stayed connected')), 10_000);
    s.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });

/** A consultation with its doctor and an admitted patient in the call; the patient records who leaves. */
async function inCall(): Promise<{ c: TestConsultation; doctor: Socket; patient: Socket; left: { peerId: string; reason?: string }[]; doctorPeer: string }> {
  const c = await TestConsultation.create(server);
  const doctor = await connect(c.doctorSession);
  const joined = await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' });
  expect(joined.ok).toBe(true);
  const patient = await connect();
  expect((await send(patient, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
  const requestId = server.consultations.waitingList(c.id)[0]!.requestId;
  expect((await send(doctor, 'admit', { requestId })).ok).toBe(true);
  expect((await send(patient, 'join', { roomId: c.id, displayName: 'Zoé' })).ok).toBe(true);
  const left: { peerId: string; reason?: string }[] = [];
  patient.on('peerLeft', (p: { peerId: string; reason?: string }) => left.push(p));
  return { c, doctor, patient, left, doctorPeer: (joined.data as { peerId: string }).peerId };
}

beforeAll(async () => {
  server = await startTestServer({ CONFIDE_GRACE_MS: '5000' });
  const admin = await server.stores.users.create({ email: 'admin@clinic.test', name: 'Admin', role: 'admin', password: 'console admin passphrase' });
  adminCookie = `confide_session=${await server.stores.sessions.create(admin.id)}`;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

describe('a staff socket after its session ends', () => {
  it('logout: the socket is disconnected, the doctor leaves the call, and the cookie cannot join again', async () => {
    const { c, doctor, left, doctorPeer } = await inCall();
    const gone = disconnected(doctor);
    expect((await api('/api/auth/logout', `confide_session=${c.doctorSession}`)).status).toBe(204);
    expect(await gone).toBe('io server disconnect');
    await waitFor('the patient told the doctor was removed', async () => left, (l) => l.some((p) => p.peerId === doctorPeer && p.reason === 'removed'));
    expect(server.rooms.peek(c.id)?.peerInfos().some((p) => p.role === 'doctor')).toBe(false);
    const again = await connect(c.doctorSession);
    expect((await send(again, 'join', { roomId: c.id, displayName: 'Dr' })).error?.code).toBe('unauthenticated');
  });

  it('disabled by the admin: the doctor’s sockets close, one in a call and one idle', async () => {
    const { c, doctor, left, doctorPeer } = await inCall();
    const idle = await connect(c.doctorSession);
    const both = Promise.all([disconnected(doctor), disconnected(idle)]);
    expect((await api(`/api/admin/doctors/${c.doctor.id}/disable`, adminCookie)).status).toBe(204);
    await both;
    await waitFor('doctor removed', async () => left, (l) => l.some((p) => p.peerId === doctorPeer && p.reason === 'removed'));
  });

  it('password reset: every session and socket of the doctor ends', async () => {
    const { c, doctor } = await inCall();
    const second = await connect(await server.stores.sessions.create(c.doctor.id)); // another browser of the same doctor
    const both = Promise.all([disconnected(doctor), disconnected(second)]);
    expect((await api(`/api/admin/doctors/${c.doctor.id}/reset`, adminCookie)).status).toBe(200);
    await both;
  });

  it('expiry: the next request is refused and the socket closed; nothing privileged runs', async () => {
    const { c, doctor } = await inCall();
    // The same doctor's second consultation: joining it after expiry must fail too.
    const second = await server.stores.consultations.create({ doctorId: c.doctor.id, patientName: 'P2', scheduledAt: Date.now(), createdBy: 'test' });
    await server.stores.db.kysely.updateTable('sessions').set({ expires_at: Date.now() - 1 }).where('user_id', '=', c.doctor.id).execute();
    const gone = disconnected(doctor);
    const [end, join] = await Promise.all([
      send(doctor, 'endConsultation', {}),
      send(doctor, 'leave', {}).then(() => send(doctor, 'join', { roomId: second.consultation.id, displayName: 'Dr' })).catch(() => undefined),
    ]);
    expect(end.error?.code).toBe('unauthenticated');
    expect(join?.ok ?? false).toBe(false);
    await gone;
    expect((await server.stores.consultations.get(c.id))?.status).not.toBe('ended');
    expect(server.rooms.peek(second.consultation.id)).toBeUndefined();
  });

  it('a held connection (dropped, within the grace period) is ended by a logout, not kept for recovery', async () => {
    const { c, doctor, left, doctorPeer } = await inCall();
    doctor.io.engine.close(); // the network drops: the server holds the doctor's place
    await waitFor('held', async () => server.held.size, (n) => n >= 1);
    const before = Date.now();
    expect((await api('/api/auth/logout', `confide_session=${c.doctorSession}`)).status).toBe(204);
    await waitFor('doctor removed', async () => left, (l) => l.some((p) => p.peerId === doctorPeer && p.reason === 'removed'));
    expect(Date.now() - before).toBeLessThan(3000); // not after the 5 s grace period
    // Reconnecting with the same socket.io session finds nothing to resume.
    const back = new Promise<void>((r) => doctor.once('connect', () => r()));
    doctor.connect();
    await back;
    expect((await send(doctor, 'resume', {})).data).toEqual({ joined: false });
    expect((await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' })).error?.code).toBe('unauthenticated');
  });
});
