// Who may enter which consultation over signalling, and a restart that loses
// nothing. Real server in-process; HTTP-level denials are in api.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { connectSocket, send } from '../support/socket-client.ts';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';

let server: ConfideServer;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-access-'));

const sockets: Socket[] = [];

async function connect(session?: string): Promise<Socket> {
  const socket = await connectSocket(server.url, session);
  sockets.push(socket);
  return socket;
}

const code = async (s: Socket, event: string, payload: unknown) => (await send(s, event, payload)).error?.code;

beforeAll(async () => {
  server = await startTestServer({ CONFIDE_DATA_DIR: dataDir });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('consultation access over signalling', () => {
  it('refuses every way in that is not the right doctor or an admitted patient of that consultation', async () => {
    const mine = await TestConsultation.create(server, 'Dr Mine');
    const other = await TestConsultation.create(server, 'Dr Other');

    // Unauthenticated: no cookie, no admission.
    const anon = await connect();
    expect(await code(anon, 'join', { roomId: mine.id, displayName: 'x' })).toBe('unauthenticated');
    expect(await code(anon, 'admit', { requestId: 'abc' })).toBe('not-joined');
    expect(await code(anon, 'endConsultation', {})).toBe('not-joined');
    expect(await code(anon, 'createTransport', { direction: 'send' })).toBe('not-joined');

    // A patient link for another consultation.
    expect(await code(anon, 'enterWaitingRoom', { consultationId: mine.id, token: other.patientToken, displayName: 'x' })).toBe(
      'forbidden',
    );
    // A forged session cookie counts for nothing.
    const forged = await connect('A'.repeat(43));
    expect(await code(forged, 'join', { roomId: mine.id, displayName: 'x' })).toBe('unauthenticated');

    // A doctor opening another doctor's consultation.
    const otherDoctor = await connect(other.doctorSession);
    expect(await code(otherDoctor, 'join', { roomId: mine.id, displayName: 'x' })).toBe('forbidden');

    // An admin never joins a call.
    const admin = await server.stores.users.create({
      email: `admin-${Date.now()}@clinic.test`,
      name: 'Admin',
      role: 'admin',
      password: 'correct horse battery staple',
    });
    const adminSocket = await connect(await server.stores.sessions.create(admin.id));
    expect(await code(adminSocket, 'join', { roomId: mine.id, displayName: 'x' })).toBe('forbidden');

    // Waiting but not admitted: cannot join; cannot admit itself.
    const doctor = await connect(mine.doctorSession);
    expect((await send(doctor, 'join', { roomId: mine.id, displayName: 'ignored' })).ok).toBe(true);
    const patient = await connect();
    expect((await send(patient, 'enterWaitingRoom', { consultationId: mine.id, token: mine.patientToken, displayName: 'Pat' })).ok).toBe(true);
    expect(await code(patient, 'join', { roomId: mine.id, displayName: 'Pat' })).toBe('unauthenticated');
    const requestId = server.consultations.waitingList(mine.id)[0]!.requestId;
    expect(await code(patient, 'admit', { requestId })).toBe('not-joined');
    // Another doctor's session cannot admit into this room either.
    expect(await code(otherDoctor, 'admit', { requestId })).toBe('not-joined');

    // Admitted: the patient joins, under its waiting-room name, but still cannot act as the doctor.
    const admitted = new Promise((r) => patient.once('admitted', r));
    expect((await send(doctor, 'admit', { requestId })).ok).toBe(true);
    await admitted;
    const joined = await send(patient, 'join', { roomId: mine.id, displayName: 'Someone Else' });
    expect(joined.ok).toBe(true);
    const doctorInfo = (joined.data as { peers: { displayName: string; role: string }[] }).peers[0]!;
    expect(doctorInfo).toMatchObject({ displayName: 'Dr Mine', role: 'doctor' });
    expect(await code(patient, 'endConsultation', {})).toBe('forbidden');
    expect(await code(patient, 'admit', { requestId: 'abc' })).toBe('forbidden');

    // The doctor ends it: everyone is told, and the link stops working.
    const ended = new Promise((r) => patient.once('consultationEnded', r));
    expect((await send(doctor, 'endConsultation', {})).ok).toBe(true);
    await ended;
    const late = await connect();
    expect(await code(late, 'enterWaitingRoom', { consultationId: mine.id, token: mine.patientToken, displayName: 'Pat' })).toBe('ended');
    const doctorAgain = await connect(mine.doctorSession);
    expect(await code(doctorAgain, 'join', { roomId: mine.id, displayName: 'x' })).toBe('ended');
    expect((await server.stores.consultations.get(mine.id))!.status).toBe('ended');
    const events = (await server.stores.audit.list(mine.id)).map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['patient_waiting', 'admitted', 'joined', 'ended']));
  });

  it('refuses an expired link', async () => {
    const c = await TestConsultation.create(server);
    const stale = await server.stores.consultations.create({
      doctorId: c.doctor.id,
      patientName: 'Late',
      scheduledAt: Date.now() - 25 * 3600_000,
      createdBy: 'test',
    });
    const s = await connect();
    expect(await code(s, 'enterWaitingRoom', { consultationId: stale.consultation.id, token: stale.patientToken, displayName: 'Late' })).toBe(
      'expired',
    );
  });

  it('loses nothing across a restart', async () => {
    const c = await TestConsultation.create(server, 'Dr Persistent');
    await server.stores.audit.record(c.id, 'joined', `doctor:${c.doctor.id}`);
    await server.close();
    server = await startTestServer({ CONFIDE_DATA_DIR: dataDir });

    expect((await server.stores.users.get(c.doctor.id))?.name).toBe('Dr Persistent');
    expect((await server.stores.consultations.get(c.id))?.status).toBe('scheduled');
    expect((await server.stores.audit.list(c.id)).map((e) => e.event)).toContain('joined');
    // The doctor's session and the patient's link still work after the restart.
    const login = await fetch(`${server.url}/api/auth/me`, { headers: { cookie: `confide_session=${c.doctorSession}` } });
    expect(login.status).toBe(200);
    const s = await connect();
    expect((await send(s, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Pat' })).ok).toBe(true);
  });
});
