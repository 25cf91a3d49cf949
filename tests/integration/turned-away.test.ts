// Issue 12 re-check: what a patient-link holder keeps once the doctor turned
// it away, and whether link holders can starve the patient in the call.
// Found on main after issue 12: a connection that had entered the waiting
// room kept its "place" after being declined, after a new patient link, or
// after the end — so the idle deadline (#6) never closed it — and it kept
// spending the budget shared by the consultation's patients, which the
// admitted patient also drew on: three declined sockets made 7 of the real
// patient's 20 requests fail with 'rate-limited', even after a new link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { connectSocket, send } from '../support/socket-client.ts';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { waitFor } from '../e2e/support/browser.ts';

let server: ConfideServer;
const sockets: Socket[] = [];

async function connect(session?: string): Promise<Socket> {
  const socket = await connectSocket(server.url, session);
  sockets.push(socket);
  return socket;
}

async function waiting(c: TestConsultation, name: string, token = c.patientToken): Promise<Socket> {
  const s = await connect();
  const ack = await send(s, 'enterWaitingRoom', { consultationId: c.id, token, displayName: name });
  expect(ack.ok).toBe(true);
  return s;
}

beforeAll(async () => {
  server = await startTestServer({}, { limits: { sockets: { perIp: 200, idleMs: 800 } } });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

describe('a link holder the doctor turned away', () => {
  it('holds no place any more: declined, replaced by a new link, or ended, it is closed by the idle deadline', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await connect(c.doctorSession);
    expect((await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' })).ok).toBe(true);
    const declined = await waiting(c, 'Declined');
    const stays = await waiting(c, 'Stays');
    await send(doctor, 'decline', { requestId: server.consultations.waitingList(c.id).find((w) => w.displayName === 'Declined')!.requestId });
    // A new patient link turns away whoever waits with the old one.
    await server.stores.consultations.newPatientToken(c.id);
    server.consultations.dropWaiting(c.id);
    const other = await TestConsultation.create(server);
    const ended = await waiting(other, 'Ended');
    await server.consultations.end(other.id, 'system');
    // Still waiting with a valid link: kept (the deadline is for those without a place).
    const c3 = await TestConsultation.create(server);
    const waits = await waiting(c3, 'Waits');
    await waitFor('turned-away connections closed', async () => [declined, stays, ended].filter((s) => s.connected).length, (n) => n === 0, 5000);
    expect(waits.connected).toBe(true);
  });

  it('cannot starve the admitted patient: the call has a budget of its own, apart from the waiting room', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await connect(c.doctorSession);
    await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' });
    const patient = await waiting(c, 'Zoé');
    await send(doctor, 'admit', { requestId: server.consultations.waitingList(c.id)[0]!.requestId });
    expect((await send(patient, 'join', { roomId: c.id, displayName: 'Zoé' })).ok).toBe(true);
    // Three other holders of the link, waiting, send as fast as their own connection's
    // budget lets them (3 × 50/s, twice what a shared budget refills) while the patient asks.
    const others = await Promise.all(['A', 'B', 'C'].map((n) => waiting(c, n)));
    const until = Date.now() + 1500;
    const flood = Promise.all(
      others.map(async (s) => {
        while (Date.now() < until) await Promise.all(Array.from({ length: 10 }, () => send(s, 'resume', {})));
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const mine: string[] = [];
    for (let i = 0; i < 20; i++) {
      mine.push((await send(patient, 'resume', {})).error?.code ?? 'ok');
      await new Promise((r) => setTimeout(r, 20));
    }
    await flood;
    expect(mine).toEqual(Array(20).fill('ok'));
  });
});
