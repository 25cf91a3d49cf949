// Every malformed, oversized or out-of-order signalling message gets a clear
// error ack, and the server keeps serving well-behaved clients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { connectSocket, send } from '../support/socket-client.ts';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';

let server: ConfideServer;

const connect = (session?: string) => connectSocket(server.url, session);

async function errorCode(socket: Socket, event: string, ...args: unknown[]): Promise<string | undefined> {
  const ack = await send(socket, event, ...args);
  expect(ack.ok).toBe(false);
  expect(typeof ack.error?.message).toBe('string');
  return ack.error?.code;
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('hostile signalling input', () => {
  it('rejects bad payloads before and after joining, and stays up', async () => {
    const c = await TestConsultation.create(server);
    const s = await connect(c.doctorSession);
    // Before joining.
    expect(await errorCode(s, 'join', { roomId: 123, displayName: 'x' })).toBe('bad-request');
    expect(await errorCode(s, 'join', { roomId: 'r1', displayName: 'x'.repeat(10_000) })).toBe('bad-request');
    expect(await errorCode(s, 'join', { roomId: '../../etc/passwd', displayName: 'x' })).toBe('bad-request');
    expect(await errorCode(s, 'join', null)).toBe('bad-request');
    expect(await errorCode(s, 'join', ['r1', 'x'])).toBe('bad-request');
    expect(await errorCode(s, 'join', 'r1')).toBe('bad-request');
    expect(await errorCode(s, 'join', { roomId: 'r1', displayName: 'x', isAdmin: true })).toBe('bad-request');
    expect(await errorCode(s, 'join', JSON.parse('{"roomId":"r1","displayName":"x","__proto__":{"polluted":1}}'))).toBe(
      'bad-request',
    );
    expect(await errorCode(s, 'selfDestruct', {})).toBe('unknown-request');
    expect(await errorCode(s, 'createTransport', { direction: 'send' })).toBe('not-joined');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Entering without being allowed.
    const anon = await connect();
    expect(await errorCode(anon, 'join', { roomId: c.id, displayName: 'x' })).toBe('unauthenticated');
    expect(await errorCode(anon, 'enterWaitingRoom', { consultationId: c.id, token: 'A'.repeat(43), displayName: 'x' })).toBe('forbidden');
    expect(await errorCode(anon, 'admit', { requestId: 'x' })).toBe('not-joined');
    expect(await errorCode(anon, 'endConsultation', {})).toBe('not-joined');
    anon.close();

    // After joining.
    const joined = await send(s, 'join', { roomId: c.id, displayName: 'Mallory' });
    expect(joined.ok).toBe(true);
    expect(await errorCode(s, 'join', { roomId: c.id, displayName: 'Again' })).toBe('already-joined');
    expect(await errorCode(s, 'createTransport', { direction: 'sideways' })).toBe('bad-request');
    expect(
      await errorCode(s, 'connectTransport', {
        transportId: 'nope',
        dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }] },
      }),
    ).toBe('not-found');
    const t = await send(s, 'createTransport', { direction: 'send' });
    expect(t.ok).toBe(true);
    const transportId = (t.data as { id: string }).id;
    expect(
      await errorCode(s, 'produce', { transportId, kind: 'video', source: 'camera', rtpParameters: { codecs: 'lots' } }),
    ).toBe('bad-request');
    const nested: Record<string, unknown> = {};
    let cur = nested;
    for (let i = 0; i < 200; i++) cur = (cur.x = {}) as Record<string, unknown>;
    expect(await errorCode(s, 'produce', { transportId, kind: 'video', source: 'camera', rtpParameters: nested })).toBe(
      'bad-request',
    );
    // Well-formed but unroutable: the SFU refuses, the client hears why.
    expect(
      await errorCode(s, 'produce', {
        transportId,
        kind: 'video',
        source: 'camera',
        rtpParameters: { codecs: [{ mimeType: 'video/H265', payloadType: 100, clockRate: 90000 }], encodings: [{ ssrc: 1 }] },
      }),
    ).toBe('bad-request');
    expect(
      await errorCode(s, 'produce', {
        transportId,
        kind: 'audio',
        source: 'camera',
        rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }] },
      }),
    ).toBe('bad-request');
    expect(
      await errorCode(s, 'consume', { transportId, producerId: 'ghost', rtpCapabilities: { codecs: [] } }),
    ).toBe('not-found');
    expect(await errorCode(s, 'resumeConsumer', { consumerId: 'ghost' })).toBe('not-found');
    expect(await errorCode(s, 'closeProducer', { producerId: 'ghost' })).toBe('not-found');

    // A request without an ack callback is ignored, not fatal.
    s.emit('join', { roomId: 'x', displayName: 'y' });
    s.emit('createTransport');

    // An oversized message (over the 256 KiB limit) only costs the sender its connection.
    const big = await connect();
    const closed = new Promise((r) => big.once('disconnect', r));
    big.emit('join', { roomId: 'r', displayName: 'x'.repeat(400_000) }, () => undefined);
    await closed;

    // The server still serves a well-behaved client.
    const good = await connect();
    expect((await send(good, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Alice' })).ok).toBe(true);
    const waiting = server.consultations.waitingList(c.id);
    expect(waiting).toHaveLength(1);
    expect((await send(s, 'admit', { requestId: waiting[0]!.requestId })).ok).toBe(true);
    const ok = await send(good, 'join', { roomId: c.id, displayName: 'Alice' });
    expect(ok.ok).toBe(true);
    expect((ok.data as { peers: unknown[] }).peers).toHaveLength(1);
    const health = await fetch(`${server.url}/api/health`);
    expect(health.status).toBe(200);
    s.close();
    good.close();
  });

  it('rejects malformed, oversized and misaddressed key messages', async () => {
    const c = await TestConsultation.create(server);
    const s = await connect(c.doctorSession);
    const commit = (round: unknown, more: Record<string, unknown> = {}) => ({ round, commitment: 'ab'.repeat(32), mac: 'cd'.repeat(32), ...more });
    const reveal = (round: unknown, more: Record<string, unknown> = {}) => ({ round, publicKey: 'ab'.repeat(32), nonce: 'cd'.repeat(32), ...more });
    expect(await errorCode(s, 'keyCommit', commit(1))).toBe('not-joined');
    const joined = await send(s, 'join', { roomId: c.id, displayName: 'Mallory' });
    expect(joined.ok).toBe(true);
    const me = (joined.data as { peerId: string }).peerId;
    expect((joined.data as { keyRound: unknown }).keyRound).toEqual({ round: 1, members: [{ peerId: me, slot: 0 }] });
    for (const bad of [
      commit(1, { commitment: 'zz'.repeat(32) }),
      commit(1, { commitment: 'ab'.repeat(31) }),
      commit(1, { mac: 'AB'.repeat(32) }),
      commit(1, { slot: 3 }),
      commit(0),
      commit(1.5),
      commit(2 ** 32),
      commit('1'),
      reveal(1, { nonce: 'cd'.repeat(33) }),
      reveal(1, { publicKey: undefined }),
    ]) {
      expect(await errorCode(s, 'publicKey' in bad ? 'keyReveal' : 'keyCommit', bad), JSON.stringify(bad)).toBe('bad-request');
    }
    expect(await errorCode(s, 'keyReveal', reveal(1))).toBe('forbidden'); // before its commitment
    expect(await errorCode(s, 'keyCommit', commit(2))).toBe('not-found'); // not the current round
    expect((await send(s, 'keyCommit', commit(1))).ok).toBe(true);
    expect((await send(s, 'keyCommit', commit(1))).ok).toBe(true); // the same again (a re-send): taken
    expect(await errorCode(s, 'keyCommit', commit(1, { commitment: 'ef'.repeat(32) }))).toBe('forbidden');
    expect((await send(s, 'keyReveal', reveal(1))).ok).toBe(true);
    expect(await errorCode(s, 'keyReveal', reveal(1, { publicKey: 'ef'.repeat(32) }))).toBe('forbidden');
    const other = await connect();
    await send(other, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Bob' });
    const round2 = new Promise((r) => s.once('keyRound', r));
    await send(s, 'admit', { requestId: server.consultations.waitingList(c.id)[0]!.requestId });
    const otherJoin = await send(other, 'join', { roomId: c.id, displayName: 'Bob' });
    const bob = (otherJoin.data as { peerId: string }).peerId;
    const members = [
      { peerId: me, slot: 0 },
      { peerId: bob, slot: 1 },
    ];
    expect((otherJoin.data as { keyRound: unknown }).keyRound).toEqual({ round: 2, members });
    expect(await round2).toEqual({ round: 2, members });
    expect(await errorCode(s, 'keyCommit', commit(1))).toBe('not-found'); // round 1 is over
    const relayed = new Promise((r) => other.once('keyCommitted', r));
    expect((await send(s, 'keyCommit', commit(2))).ok).toBe(true);
    expect(await relayed).toEqual({ peerId: me, ...commit(2) });
    expect(await errorCode(s, 'keyReveal', reveal(2))).toBe('forbidden'); // Bob has not committed
    expect(await errorCode(s, 'sendKey', { to: 'ghost', kid: 1, box: 'ab'.repeat(40) })).toBe('not-found');
    expect(await errorCode(s, 'sendKey', { to: me, kid: 1, box: 'ab'.repeat(40) })).toBe('not-found');
    expect(await errorCode(s, 'sendKey', { to: bob, kid: 256, box: 'ab'.repeat(40) })).toBe('bad-request');
    expect(await errorCode(s, 'sendKey', { to: bob, kid: 1, box: 'ab'.repeat(5000) })).toBe('bad-request');
    expect(await errorCode(s, 'sendKey', { to: bob, kid: 1, box: 'abc' })).toBe('bad-request');
    const delivered = new Promise((r) => other.once('keyDelivered', r));
    expect((await send(s, 'sendKey', { to: bob, kid: 1, box: 'ab'.repeat(40) })).ok).toBe(true);
    expect(await delivered).toEqual({ from: me, kid: 1, box: 'ab'.repeat(40) });
    s.close();
    other.close();
  });

  it('throttles a flood of requests from one connection', async () => {
    const s = await connect();
    const acks = await Promise.all(Array.from({ length: 300 }, () => send(s, 'leave', {})));
    const codes = acks.map((a) => a.error?.code);
    expect(codes).toContain('rate-limited');
    expect(codes).toContain('not-joined');
    s.close();
  });
});
