// Issue 12, item 7: the chat relay does not buffer without limit for a
// receiver that stopped reading. With one receiver stalled (its TCP socket
// paused), two senders relay 64 KiB chunks for a few seconds: the stalled one
// is skipped (the senders are told: `behind`), then disconnected (it keeps
// its place for the grace period, and gets what it missed through the
// senders' re-sends); the fast one gets everything; socket.io's recovery
// buffer stays within its bound; the server's memory does not balloon.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { connectSocket, send, type AckShape } from '../support/socket-client.ts';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { waitFor } from '../e2e/support/browser.ts';

let server: ConfideServer;
const sockets: Socket[] = [];
const RECOVERY_BYTES = 4 * 1024 * 1024;

async function connect(session?: string): Promise<Socket> {
  const socket = await connectSocket(server.url, session);
  sockets.push(socket);
  return socket;
}

async function patient(c: TestConsultation, doctor: Socket, name: string): Promise<{ socket: Socket; peerId: string }> {
  const socket = await connect();
  await send(socket, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: name });
  const entry = server.consultations.waitingList(c.id).find((w) => w.displayName === name)!;
  expect((await send(doctor, 'admit', { requestId: entry.requestId, as: 'add' })).ok).toBe(true);
  const joined = await send(socket, 'join', { roomId: c.id, displayName: name });
  expect(joined.ok).toBe(true);
  return { socket, peerId: (joined.data as { peerId: string }).peerId };
}

/** Stops reading from the server: the client's TCP socket is paused, so the server's writes back up. */
function stall(socket: Socket): void {
  const ws = (socket.io.engine as unknown as { transport: { ws: { _socket: { pause(): void } } } }).transport.ws;
  ws._socket.pause();
}

beforeAll(async () => {
  server = await startTestServer(
    { CONFIDE_GRACE_MS: '20000' },
    { limits: { chat: { receiverBacklogBytes: 256 * 1024, receiverDropBytes: 2 * 1024 * 1024, stalledMs: 2000 }, recoveryBufferBytes: RECOVERY_BYTES } },
  );
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

describe('the chat relay with a stalled receiver', () => {
  it('skips it and tells the senders, then disconnects it; the others get everything; memory stays bounded', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await connect(c.doctorSession);
    const dj = await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' });
    const doctorPeer = (dj.data as { peerId: string }).peerId;
    const slow = await patient(c, doctor, 'Slow');
    const sender = await patient(c, doctor, 'Sender');
    const states: { peerId: string; state: string }[] = [];
    doctor.on('peerConnection', (e: { peerId: string; state: string }) => states.push(e));
    let doctorGot = 0;
    doctor.on('chatChunk', () => doctorGot++);

    stall(slow.socket);
    const rssBefore = process.memoryUsage().rss;
    const box = new Uint8Array(64 * 1024).fill(7);
    const acks: AckShape[] = [];
    let sent = 0;
    const sentBy = new Map<Socket, number>();
    const blast = async (s: Socket) => {
      const until = Date.now() + 6000;
      for (let i = 0; Date.now() < until; i++) {
        const id = (i % 1000).toString(16).padStart(32, '0');
        const ack = await send(s, 'chatChunk', { kid: 1, id, index: 0, total: 1, box });
        acks.push(ack);
        if (ack.ok) {
          sent++;
          sentBy.set(s, (sentBy.get(s) ?? 0) + 1);
        }
        await new Promise((r) => setTimeout(r, 15)); // about the client's own pace (≤ 50 a second)
      }
    };
    await Promise.all([blast(sender.socket), blast(doctor)]);
    const grew = (process.memoryUsage().rss - rssBefore) / (1024 * 1024);

    expect(sent).toBeGreaterThan(200); // ~13 MB of chunks went through the relay
    // The senders were told the stalled receiver did not get some chunks.
    const behind = acks.filter((a) => ((a.data as { behind?: string[] } | undefined)?.behind ?? []).includes(slow.peerId));
    expect(behind.length).toBeGreaterThan(0);
    expect(acks.some((a) => ((a.data as { behind?: string[] } | undefined)?.behind ?? []).includes(doctorPeer))).toBe(false);
    // It was disconnected (the others see it reconnecting), not kept filling buffers.
    await waitFor('the stalled receiver dropped', async () => states, (s) => s.some((e) => e.peerId === slow.peerId && e.state === 'reconnecting'), 5000);
    // The doctor, reading, got every chunk the other patient sent.
    await waitFor('the doctor read everything', async () => doctorGot, (n) => n >= (sentBy.get(sender.socket) ?? 0), 5000);
    expect(doctorGot).toBe(sentBy.get(sender.socket));
    // socket.io's recovery store stayed within its bound.
    const adapter = server.io.of('/').adapter as unknown as { heldBytes: number };
    expect(adapter.heldBytes).toBeLessThanOrEqual(RECOVERY_BYTES);
    // Without back-pressure the review saw ~180 MB of growth in 30 s; here a few tens at most.
    expect(grew).toBeLessThan(120);
  });
});
