// Issue 12: what a holder of the patient link, or a client that never signs
// in, can hold and send, with a real server on loopback (bounded load only):
// 70 waiting entries (#5), connection caps, the deadline to take a place and
// HTTP timeouts (#6), audit rows from the patient link (#9), per-account
// limits and keyframe requests (#12), the join existence oracle (#14), and
// names over signalling (#11).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { connectSocket, send } from '../support/socket-client.ts';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { waitFor } from '../e2e/support/browser.ts';
import { MAX_WAITING, requests } from '../../shared/protocol/signalling.ts';

let server: ConfideServer;
const sockets: Socket[] = [];

async function connect(session?: string, url = server.url): Promise<Socket> {
  const socket = await connectSocket(url, session);
  sockets.push(socket);
  return socket;
}

const code = async (s: Socket, event: string, payload: unknown) => (await send(s, event, payload)).error?.code;

beforeAll(async () => {
  server = await startTestServer({}, { limits: { sockets: { perIp: 200, perAccount: 4 } } });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

describe('the waiting room (patient link holders)', () => {
  it('70 entries with the valid link: at most MAX_WAITING wait, the doctor still joins, with a list the client accepts', async () => {
    const c = await TestConsultation.create(server);
    const many = await Promise.all(Array.from({ length: 70 }, () => connect()));
    const acks = await Promise.all(
      many.map((s, i) => send(s, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: `P${i}` })),
    );
    expect(acks.filter((a) => a.ok).length).toBeLessThanOrEqual(MAX_WAITING);
    expect(acks.filter((a) => !a.ok).every((a) => a.error?.code === 'rate-limited')).toBe(true);
    const doctor = await connect(c.doctorSession);
    const joined = await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' });
    expect(joined.ok).toBe(true);
    expect(requests.join.res.safeParse(joined.data).success).toBe(true); // what the doctor's page checks
    for (const s of many) s.close();
  });

  it('a join whose answer would be refused by the client leaves no peer behind', async () => {
    const c = await TestConsultation.create(server);
    const consultations = server.consultations as unknown as { waitingList: (id: string) => unknown[] };
    const real = consultations.waitingList;
    // Make the answer break the shared schema, the way 70 entries did before they were capped.
    consultations.waitingList = () => Array.from({ length: 70 }, (_, i) => ({ requestId: `r${i}`, displayName: `P${i}` }));
    try {
      const doctor = await connect(c.doctorSession);
      expect(await code(doctor, 'join', { roomId: c.id, displayName: 'Dr' })).toBe('internal');
      expect(server.rooms.peek(c.id)?.peerCount ?? 0).toBe(0);
    } finally {
      consultations.waitingList = real;
    }
  });

  it('entering and leaving in a loop: entries are rate-limited per link and audited once a minute', async () => {
    const c = await TestConsultation.create(server);
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 60; i++) {
      const s = await connect();
      codes.push(await code(s, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Loop' }));
      s.close();
    }
    expect(codes.filter((x) => x === undefined).length).toBeLessThanOrEqual(11);
    expect(codes).toContain('rate-limited');
    const rows = (await server.stores.audit.list(c.id)).filter((e) => e.event === 'patient_waiting');
    expect(rows).toHaveLength(1);
    // Guesses (wrong token) do not spend the real patient's entries.
    const other = await TestConsultation.create(server);
    for (let i = 0; i < 20; i++) {
      const s = await connect();
      expect(await code(s, 'enterWaitingRoom', { consultationId: other.id, token: 'A'.repeat(43), displayName: 'Guess' })).toBe('forbidden');
      s.close();
    }
    const real = await connect();
    expect(await code(real, 'enterWaitingRoom', { consultationId: other.id, token: other.patientToken, displayName: 'Real' })).toBeUndefined();
  });

  it('names: controls and invisible-only names are refused; bidi overrides are removed before the doctor sees them', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await connect(c.doctorSession);
    await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' });
    const seen: string[] = [];
    doctor.on('patientWaiting', (w: { displayName: string }) => seen.push(w.displayName));
    for (const bad of ['\u0000', 'Zo\u001b[2Jé', '\u200b\u200b', '\u202e']) {
      const s = await connect();
      expect(await code(s, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: bad }), JSON.stringify(bad)).toBe('bad-request');
    }
    const s = await connect();
    expect(await code(s, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé \u202eeiram' })).toBeUndefined();
    await waitFor('the doctor told', async () => seen, (x) => x.length > 0);
    expect(seen).toEqual(['Zoé eiram']);
  });
});

describe('join without the right credential: one answer', () => {
  it('unknown, live and ended consultations look the same to a socket without a credential, and to another doctor', async () => {
    const live = await TestConsultation.create(server);
    const ended = await TestConsultation.create(server);
    await server.consultations.end(ended.id, 'system');
    const anon = await connect();
    const answers = [];
    for (const roomId of ['zzzzzzzzzzzzzzzz', live.id, ended.id]) {
      answers.push(await send(anon, 'join', { roomId, displayName: 'x' }));
      answers.push(await send(anon, 'join', { roomId, displayName: 'x', rejoinToken: 'A'.repeat(43) }));
    }
    expect(new Set(answers.map((a) => JSON.stringify(a.error)))).toEqual(
      new Set([JSON.stringify({ code: 'unauthenticated', message: 'wait for the doctor to admit you' }), JSON.stringify({ code: 'unauthenticated', message: 'this rejoin credential is not valid: wait to be admitted' })]),
    );
    const stranger = await connect((await TestConsultation.create(server, 'Dr Stranger')).doctorSession);
    const seen = new Set<string>();
    for (const roomId of ['zzzzzzzzzzzzzzzz', live.id, ended.id]) seen.add(JSON.stringify((await send(stranger, 'join', { roomId, displayName: 'x' })).error));
    expect([...seen]).toEqual([JSON.stringify({ code: 'forbidden', message: 'not your consultation' })]);
    // The consultation's own doctor is told the truth.
    const own = await connect(ended.doctorSession);
    expect(await code(own, 'join', { roomId: ended.id, displayName: 'Dr' })).toBe('ended');
  });
});

describe('limits per account and per connection', () => {
  it('one doctor account: at most limits.sockets.perAccount connections, one slot in a room however many join', async () => {
    const c = await TestConsultation.create(server);
    const first = await Promise.all(Array.from({ length: 4 }, () => connect(c.doctorSession)));
    const extra = await connect(c.doctorSession).catch(() => undefined);
    if (extra) await waitFor('the extra connection closed', async () => extra.connected, (x) => !x, 5000);
    for (const s of first) await send(s, 'join', { roomId: c.id, displayName: 'Dr' });
    expect(server.rooms.peek(c.id)?.peerCount).toBe(1);
  });

  it('every event counts: unknown names are rate-limited too, and an account shares one budget across its sockets', async () => {
    const lone = await connect();
    const unknown = await Promise.all(Array.from({ length: 200 }, (_, i) => send(lone, `made-up-${i}`, {})));
    expect(unknown.map((a) => a.error?.code)).toContain('rate-limited');

    const c = await TestConsultation.create(server);
    const three = await Promise.all(Array.from({ length: 3 }, () => connect(c.doctorSession)));
    const acks = (await Promise.all(three.map((s) => Promise.all(Array.from({ length: 100 }, () => send(s, 'resume', {})))))).flat();
    const served = acks.filter((a) => a.ok).length;
    // Each connection alone would allow its burst of 100: 300. The account shares 150.
    expect(served).toBeLessThan(200);
    expect(served).toBeGreaterThanOrEqual(100);
  });

  it('requestKeyFrame floods are coalesced per producer: at most two keyframes a second reach the sender', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await connect(c.doctorSession);
    await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' });
    const send_ = await send(doctor, 'createTransport', { direction: 'send' });
    const produced = await send(doctor, 'produce', {
      transportId: (send_.data as { id: string }).id,
      kind: 'video',
      source: 'camera',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }],
        encodings: [{ ssrc: 22_222_222 }],
        rtcp: { cname: 'doctor' },
      },
    });
    expect(produced.ok).toBe(true);
    const patient = await connect();
    await send(patient, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' });
    await send(doctor, 'admit', { requestId: server.consultations.waitingList(c.id)[0]!.requestId });
    const joined = await send(patient, 'join', { roomId: c.id, displayName: 'Zoé' });
    const caps = (joined.data as { routerRtpCapabilities: unknown }).routerRtpCapabilities;
    const recv = await send(patient, 'createTransport', { direction: 'recv' });
    const consumed = await send(patient, 'consume', {
      transportId: (recv.data as { id: string }).id,
      producerId: (produced.data as { producerId: string }).producerId,
      rtpCapabilities: caps,
    });
    expect(consumed.ok).toBe(true);
    const consumerId = (consumed.data as { consumerId: string }).consumerId;
    const room = server.rooms.peek(c.id)!;
    const started = Date.now();
    let answered = 0;
    while (Date.now() - started < 2000) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => send(patient, 'requestKeyFrame', { consumerId })));
      answered += batch.filter((a) => a.ok).length;
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (Date.now() - started) / 1000;
    expect(answered).toBeGreaterThan(50);
    expect(room.media.keyFrames.requested).toBeLessThanOrEqual(Math.ceil(seconds * 2) + 1);
    expect(room.media.keyFrames.coalesced).toBeGreaterThan(40);
  });
});

describe('clients that never authenticate', () => {
  it('caps connections per address, and closes one that takes no place in time', async () => {
    const capped = await startTestServer({ CONFIDE_MAX_SOCKETS_PER_IP: '5' }, { limits: { sockets: { idleMs: 800 } } });
    try {
      const open = await Promise.all(Array.from({ length: 5 }, () => connect(undefined, capped.url)));
      await expect(connect(undefined, capped.url)).rejects.toThrow();
      open[0]!.close();
      await new Promise((r) => setTimeout(r, 100));
      const again = await connect(undefined, capped.url);
      // None of them took a place: all closed by the deadline.
      await waitFor('idle connections closed', async () => [...open.slice(1), again].filter((s) => s.connected).length, (n) => n === 0, 5000);
      // One that enters the waiting room stays.
      const c = await TestConsultation.create(capped);
      const patient = await connect(undefined, capped.url);
      expect((await send(patient, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 1500));
      expect(patient.connected).toBe(true);
    } finally {
      await capped.close();
    }
  });

  it('closes a partial HTTP request and a body trickled byte by byte', async () => {
    const timed = await startTestServer({}, { limits: { http: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, idleTimeoutMs: 30_000, checkEveryMs: 250 } } });
    try {
      const { port } = new URL(timed.url);
      /** Opens a raw connection, runs `feed`, and resolves with ms until the server closed it (or 8000). */
      const closedAfter = (feed: (s: net.Socket) => void) =>
        new Promise<number>((resolve) => {
          const start = Date.now();
          const s = net.connect(Number(port), '127.0.0.1', () => feed(s));
          const timer = setTimeout(() => {
            s.destroy();
            resolve(8000);
          }, 8000);
          s.on('data', () => undefined);
          s.on('close', () => {
            clearTimeout(timer);
            resolve(Date.now() - start);
          });
          s.on('error', () => undefined);
        });
      const partial = await closedAfter((s) => s.write('POST /api/auth/login HTTP/1.1\r\nHost: x\r\n'));
      expect(partial).toBeLessThan(3000);
      const trickled = await closedAfter((s) => {
        s.write('POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n');
        const timer = setInterval(() => (s.writable ? s.write('{') : clearInterval(timer)), 300);
        s.on('close', () => clearInterval(timer));
      });
      expect(trickled).toBeLessThan(4500);
    } finally {
      await timed.close();
    }
  });
});
