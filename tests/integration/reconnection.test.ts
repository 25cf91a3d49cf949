// The server side of calls that survive faults (issue 9), with real sockets
// and a real SFU but no browser: a dropped connection is held and recovered
// as the same participant; a grace period that runs out removes it; an
// admitted patient comes back with its rejoin credential and replaces its
// ghost; a killed SFU worker is replaced and its rooms move, while rooms on
// the other worker notice nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { connectSocket, send } from '../support/socket-client.ts';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { waitFor } from '../e2e/support/browser.ts';

let server: ConfideServer;
const sockets: Socket[] = [];
const GRACE_MS = 2000;

async function connect(session?: string): Promise<Socket> {
  const socket = await connectSocket(server.url, session);
  sockets.push(socket);
  return socket;
}

/** Every notification `name` a socket receives, in order. */
function record<T = unknown>(socket: Socket, name: string): T[] {
  const seen: T[] = [];
  socket.on(name, (data: T) => seen.push(data));
  return seen;
}

async function doctorIn(c: TestConsultation): Promise<{ socket: Socket; peerId: string }> {
  const socket = await connect(c.doctorSession);
  const ack = await send(socket, 'join', { roomId: c.id, displayName: 'Dr' });
  expect(ack.ok).toBe(true);
  return { socket, peerId: (ack.data as { peerId: string }).peerId };
}

async function patientIn(c: TestConsultation, name = 'Zoé'): Promise<{ socket: Socket; join: { peerId: string; participantId: string; rejoinToken?: string } }> {
  const socket = await connect();
  const waiting = await send(socket, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: name });
  expect(waiting.ok).toBe(true);
  const entry = server.consultations.waitingList(c.id).find((w) => w.displayName === name)!;
  await server.consultations.admit(c.doctor, c.id, entry.requestId);
  const ack = await send(socket, 'join', { roomId: c.id, displayName: name });
  expect(ack.ok).toBe(true);
  return { socket, join: ack.data as { peerId: string; participantId: string; rejoinToken?: string } };
}

/** Drops the connection the way a network does (the engine.io transport closes), then reconnects. */
async function dropAndReconnect(socket: Socket, downMs: number): Promise<void> {
  socket.io.engine.close();
  await new Promise((r) => setTimeout(r, downMs));
  const back = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.connect();
  await back;
}

beforeAll(async () => {
  server = await startTestServer({ CONFIDE_GRACE_MS: String(GRACE_MS), CONFIDE_WORKERS: '2' });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

describe('a dropped connection', () => {
  it('is held and recovered as the same participant, with what it missed, and the others see "reconnecting"', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await doctorIn(c);
    const patient = await patientIn(c);
    const states = record<{ peerId: string; state: string }>(doctor.socket, 'peerConnection');
    const left = record(doctor.socket, 'peerLeft');
    const chat = record<{ id: string }>(patient.socket, 'chatChunk');

    patient.socket.io.engine.close();
    await waitFor('the doctor told the patient is reconnecting', async () => states.length, (n) => n >= 1);
    expect(states[0]).toEqual({ peerId: patient.join.peerId, state: 'reconnecting' });
    expect(server.consultations.live(c.id).connected.find((p) => p.role === 'patient')?.reconnecting).toBe(true);
    // Sent while the patient is away: it must arrive once it is back.
    const box = new Uint8Array(80).fill(7);
    expect((await send(doctor.socket, 'chatChunk', { kid: 0, id: 'a'.repeat(32), index: 0, total: 1, box })).ok).toBe(true);

    const back = new Promise<void>((resolve) => patient.socket.once('connect', () => resolve()));
    patient.socket.connect();
    await back;
    expect(patient.socket.recovered).toBe(true);
    const resumed = await send(patient.socket, 'resume', {});
    expect(resumed.data).toEqual({ joined: true, peerId: patient.join.peerId });
    await waitFor('the missed chat chunk', async () => chat.length, (n) => n === 1);
    await waitFor('the doctor told the patient is back', async () => states.length, (n) => n >= 2);
    expect(states[1]).toEqual({ peerId: patient.join.peerId, state: 'connected' });
    expect(left).toEqual([]);
    expect(server.rooms.peek(c.id)?.peerCount).toBe(2);
    const events = (await server.stores.audit.list(c.id)).map((e) => e.event);
    expect(events).toContain('connection_lost');
    expect(events).toContain('reconnected');
  });

  it('leaves the room once the grace period is over; a later resume says so', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await doctorIn(c);
    const patient = await patientIn(c);
    const left = record<{ peerId: string; reason?: string }>(doctor.socket, 'peerLeft');
    const t0 = Date.now();
    await dropAndReconnect(patient.socket, GRACE_MS + 500);
    expect(left).toEqual([{ peerId: patient.join.peerId, reason: 'timeout' }]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(GRACE_MS);
    // socket.io may still recover the socket, but the place is gone: the client must rejoin in full.
    expect((await send(patient.socket, 'resume', {})).data).toEqual({ joined: false });
    expect((await server.stores.audit.list(c.id)).map((e) => e.event)).toContain('timed_out');
    expect(server.rooms.peek(c.id)?.peerCount).toBe(1);
  });

  it('an explicit leave is final at once', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await doctorIn(c);
    const patient = await patientIn(c);
    const left = record<{ peerId: string; reason?: string }>(doctor.socket, 'peerLeft');
    patient.socket.disconnect();
    await waitFor('peerLeft', async () => left.length, (n) => n === 1);
    expect(left[0]).toEqual({ peerId: patient.join.peerId, reason: 'left' });
    expect(server.held.size).toBe(0);
  });
});

describe('the rejoin credential', () => {
  it('lets the admitted patient back in without re-admission, replacing its ghost: one peer, same participant', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await doctorIn(c);
    const patient = await patientIn(c);
    expect(patient.join.rejoinToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const left = record<{ peerId: string; reason?: string }>(doctor.socket, 'peerLeft');
    const joinedAll = record<{ peerId: string; participantId: string; displayName: string }>(doctor.socket, 'peerJoined');
    const joined = { map: <R>(f: (j: (typeof joinedAll)[number]) => R) => joinedAll.filter((j) => j.peerId !== patient.join.peerId).map(f) };
    const replaced = record(patient.socket, 'replaced');

    // A reload: the old tab's socket is still held (or even still open), a new one comes with the credential.
    const again = await connect();
    const ack = await send(again, 'join', { roomId: c.id, displayName: 'ignored', rejoinToken: patient.join.rejoinToken });
    expect(ack.ok).toBe(true);
    const data = ack.data as { peerId: string; participantId: string; rejoinToken?: string };
    expect(data.participantId).toBe(patient.join.participantId);
    expect(data.peerId).not.toBe(patient.join.peerId);
    expect(data.rejoinToken).toBeUndefined(); // the tab keeps the one it has
    await waitFor('the ghost replaced', async () => left.length, (n) => n === 1);
    expect(left[0]).toEqual({ peerId: patient.join.peerId, reason: 'replaced' });
    expect(joined.map((j) => [j.participantId, j.displayName])).toEqual([[patient.join.participantId, 'Zoé']]);
    await waitFor('the old connection told', async () => replaced.length, (n) => n === 1);
    expect(server.rooms.peek(c.id)?.peerInfos().filter((p) => p.role === 'patient')).toHaveLength(1);
    expect(server.consultations.waitingList(c.id)).toEqual([]);
    expect((await server.stores.audit.list(c.id)).map((e) => e.event)).toContain('rejoined');
    // The doctor's own rejoin (cookie) replaces the doctor's ghost the same way.
    const doctorAgain = await connect(c.doctorSession);
    expect((await send(doctorAgain, 'join', { roomId: c.id, displayName: 'Dr' })).ok).toBe(true);
    expect(server.rooms.peek(c.id)?.peerInfos().filter((p) => p.role === 'doctor')).toHaveLength(1);
  });

  it('refuses forged, foreign and post-end credentials; only their hash is stored', async () => {
    const a = await TestConsultation.create(server);
    const b = await TestConsultation.create(server);
    await doctorIn(a);
    const patient = await patientIn(a);
    const token = patient.join.rejoinToken!;
    const s = await connect();
    const code = async (payload: unknown) => (await send(s, 'join', payload)).error?.code;
    expect(await code({ roomId: a.id, displayName: 'x', rejoinToken: 'A'.repeat(43) })).toBe('unauthenticated');
    expect(await code({ roomId: b.id, displayName: 'x', rejoinToken: token })).toBe('unauthenticated');
    expect(await code({ roomId: a.id, displayName: 'x', rejoinToken: 'short' })).toBe('bad-request');
    // Only its hash is stored.
    const rows = await server.stores.db.kysely.selectFrom('rejoin_credentials').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token);
    await server.consultations.end(a.id, 'system');
    // The end deleted it: the same answer as a forged one (no oracle, issue 12 #14); the patient's
    // page then goes back to its link, whose check says "ended".
    expect(await code({ roomId: a.id, displayName: 'x', rejoinToken: token })).toBe('unauthenticated');
  });
});

describe('one link, one patient', () => {
  it('marks a second device of the same link; "replace" takes the first one\'s place, "add" admits a distinguishable second', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await doctorIn(c);
    const waitingSeen = record<{ requestId: string; displayName: string; sameLink?: string }>(doctor.socket, 'patientWaiting');
    const first = await patientIn(c);
    const replaced = record(first.socket, 'replaced');

    // The same link on a second device, while the first is in the call.
    const second = await connect();
    expect((await send(second, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
    const entry = await waitFor('the doctor told', async () => waitingSeen.find((w) => w.sameLink), (w) => w !== undefined);
    expect(entry).toMatchObject({ displayName: 'Zoé', sameLink: 'in-call' });
    expect((await send(doctor.socket, 'admit', { requestId: entry!.requestId, as: 'replace' })).ok).toBe(true);
    const joined = await send(second, 'join', { roomId: c.id, displayName: 'Zoé' });
    expect(joined.ok).toBe(true);
    const data = joined.data as { participantId: string; rejoinToken: string };
    expect(data.participantId).toBe(first.join.participantId); // its place, not a second patient
    await waitFor('the first device told', async () => replaced.length, (n) => n === 1);
    const patients = () => server.rooms.peek(c.id)!.peerInfos().filter((p) => p.role === 'patient');
    expect(patients()).toHaveLength(1);
    // The first device's credential stopped working; the second's works.
    const retry = await connect();
    expect((await send(retry, 'join', { roomId: c.id, displayName: 'x', rejoinToken: first.join.rejoinToken })).error?.code).toBe('unauthenticated');

    // A third holder of the link, admitted as well: two patients, never two "Zoé".
    const third = await connect();
    expect((await send(third, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
    const entry3 = await waitFor('the doctor told again', async () => waitingSeen.filter((w) => w.sameLink).at(1), (w) => w !== undefined);
    expect((await send(doctor.socket, 'admit', { requestId: entry3!.requestId, as: 'add' })).ok).toBe(true);
    expect((await send(third, 'join', { roomId: c.id, displayName: 'Zoé' })).ok).toBe(true);
    expect(patients().map((p) => p.displayName).sort()).toEqual(['Zoé', 'Zoé (2)']);
  });
});

describe('one link, one patient, when the first one is away', () => {
  it('someone admitted earlier who may come back marks the new holder of the link; "replace" revokes the earlier credential', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await doctorIn(c);
    const seen = record<{ requestId: string; sameLink?: string }>(doctor.socket, 'patientWaiting');
    const first = await patientIn(c);
    expect((await send(first.socket, 'leave', {})).ok).toBe(true); // left, still holds a credential
    const second = await connect();
    expect((await send(second, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
    const entry = await waitFor('the doctor told', async () => seen.find((w) => w.sameLink), (w) => w !== undefined);
    expect(entry?.sameLink).toBe('earlier');
    expect((await send(doctor.socket, 'admit', { requestId: entry!.requestId, as: 'replace' })).ok).toBe(true);
    expect((await send(second, 'join', { roomId: c.id, displayName: 'Zoé' })).ok).toBe(true);
    // The one who left cannot come back silently as a second Zoé.
    const back = await connect();
    expect((await send(back, 'join', { roomId: c.id, displayName: 'x', rejoinToken: first.join.rejoinToken })).error?.code).toBe('unauthenticated');
    expect(server.rooms.peek(c.id)!.peerInfos().filter((p) => p.role === 'patient')).toHaveLength(1);
  });

  it('a page reloaded in the waiting room is one entry, not a second device', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await doctorIn(c);
    const seen = record<{ requestId: string; sameLink?: string }>(doctor.socket, 'patientWaiting');
    const left = record<{ requestId: string }>(doctor.socket, 'waitingLeft');
    const tab = await connect();
    expect((await send(tab, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
    tab.io.engine.close(); // the reload closes the socket: held for the grace period
    await waitFor('held', async () => server.held.size, (n) => n >= 1);
    const reloaded = await connect();
    expect((await send(reloaded, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
    await waitFor('the stale entry gone', async () => left.length, (n) => n === 1);
    expect(server.consultations.waitingList(c.id)).toHaveLength(1);
    await waitFor('two announcements', async () => seen.length, (n) => n === 2);
    expect(seen[1]?.sameLink).toBeUndefined();
  });

  it('a waiting connection that comes in with its credential leaves the doctor\'s list', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await doctorIn(c);
    const first = await patientIn(c);
    first.socket.disconnect();
    const left = record<{ requestId: string }>(doctor.socket, 'waitingLeft');
    const again = await connect();
    expect((await send(again, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
    const listed = await waitFor('listed', async () => server.consultations.waitingList(c.id), (l) => l.length === 1);
    expect((await send(again, 'join', { roomId: c.id, displayName: 'Zoé', rejoinToken: first.join.rejoinToken })).ok).toBe(true);
    await waitFor('off the list', async () => left.map((l) => l.requestId), (ids) => ids.includes(listed[0]!.requestId));
    expect(server.consultations.waitingList(c.id)).toEqual([]);
  });
});

describe('a killed SFU worker', () => {
  it('is replaced; its rooms move and are told to rebuild media; the room on the other worker notices nothing', async () => {
    const a = await TestConsultation.create(server);
    const b = await TestConsultation.create(server);
    const da = await doctorIn(a);
    const db = await doctorIn(b);
    const resetA = record(da.socket, 'mediaReset');
    const resetB = record(db.socket, 'mediaReset');
    const roomA = server.rooms.peek(a.id)!;
    const roomB = server.rooms.peek(b.id)!;
    expect(roomA.workerPid).not.toBe(roomB.workerPid);
    expect((await send(db.socket, 'createTransport', { direction: 'send' })).ok).toBe(true);
    const victim = roomA.workerPid;
    const restarts = server.pool.restarts;

    process.kill(victim, 'SIGKILL');
    await waitFor('room A told to rebuild', async () => resetA.length, (n) => n === 1, 10_000, 50);
    expect(roomA.workerPid).not.toBe(victim);
    expect(roomA.isClosed).toBe(false);
    expect(roomA.peerCount).toBe(1);
    const media = await send(da.socket, 'rejoinMedia', {});
    expect(media.ok).toBe(true);
    expect((await send(da.socket, 'createTransport', { direction: 'send' })).ok).toBe(true);
    await waitFor('the dead worker replaced', async () => server.pool.pids.length, (n) => n === 2, 10_000, 50);
    expect(server.pool.restarts).toBe(restarts + 1);
    expect(server.pool.pids).not.toContain(victim);
    // Room B: same worker, same transport, no reset.
    expect(resetB).toEqual([]);
    expect((await roomB.counts()).sfuTransports).toBe(1);
    expect((await roomA.counts()).sfuTransports).toBe(1);
  });
});
