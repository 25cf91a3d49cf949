// socket.io across nodes (issue 16) on a real Redis: two socket.io servers on
// one Redis Streams adapter deliver a room broadcast made on one to clients
// of the other, and a dropped client's session, kept in Redis, is recovered
// with what it missed, on the other node too. Then a real Confide node with
// CONFIDE_REDIS_URL: it announces itself in the registry, and a dropped
// participant is recovered as the same participant, with what it missed, as
// in one-node mode (tests/integration/reconnection.test.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { io as ioClient, type Socket } from 'socket.io-client';
import { startRedis, type RunningRedis } from '../support/redis.ts';
import { redisStreamsAdapter } from '../../server/cluster/socket-adapter.ts';
import { connectSocket, send, socketCall } from '../support/socket-client.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { waitFor } from '../e2e/support/browser.ts';
import type { ConfideServer } from '../../server/app.ts';

let redis: RunningRedis;
const closers: (() => unknown)[] = [];
const PREFIX = 'sio-test:';

/** A socket.io server on a free loopback port, on the shared Redis stream (or `on`'s), with connection state recovery. */
async function ioNode(on: RunningRedis = redis, onSessionLost?: (err: unknown) => void): Promise<{ io: Server; url: string }> {
  const client = new Redis(on.url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  const server = http.createServer();
  const streams = redisStreamsAdapter(client, { prefix: PREFIX, maxLen: 1_000, ...(onSessionLost ? { onSessionLost } : {}) });
  const io = new Server(server, {
    adapter: streams.adapter,
    connectionStateRecovery: { maxDisconnectionDuration: 10_000, skipMiddlewares: true },
  });
  io.on('connection', (socket) => {
    const room = (socket.handshake.auth as { room?: unknown }).room;
    if (typeof room === 'string' && !socket.recovered) void socket.join(room);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    await io.close();
    await streams.close();
    await client.quit().catch(() => client.disconnect());
  });
  return { io, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function connect(url: string, room: string): Promise<Socket> {
  const socket = ioClient(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { room } });
  closers.push(() => socket.close());
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

function record<T = unknown>(socket: Socket, name: string): T[] {
  const seen: T[] = [];
  socket.on(name, (data: T) => seen.push(data));
  return seen;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await redis?.stop();
});

describe('two socket.io servers on one Redis Streams adapter', () => {
  it('deliver a room broadcast made on one to the room\'s clients on both, and to no one else', async () => {
    const [one, two] = [await ioNode(), await ioNode()];
    const onOne = await connect(one.url, 'consultation-1');
    const onTwo = await connect(two.url, 'consultation-1');
    const otherRoom = await connect(two.url, 'consultation-2');
    const got = [record(onOne, 'note'), record(onTwo, 'note'), record(otherRoom, 'note')];
    // Binary payloads (key and chat boxes) cross too.
    one.io.to('consultation-1').emit('note', { n: 1, box: new Uint8Array([1, 2, 3]) });
    two.io.to('consultation-1').emit('note', { n: 2 });
    await waitFor('both notes on both nodes', async () => [got[0]!.length, got[1]!.length], ([a, b]) => a === 2 && b === 2, 5_000, 20);
    for (const g of got.slice(0, 2) as { n: number; box?: ArrayBuffer }[][]) {
      // Two nodes' emits have no order between them (two connections to Redis); each arrives once.
      expect(g.map((x) => x.n).sort()).toEqual([1, 2]);
      expect(new Uint8Array(g.find((x) => x.n === 1)!.box!)).toEqual(new Uint8Array([1, 2, 3]));
    }
    await sleep(200);
    expect(got[2]).toEqual([]);
  });

  it('recover a dropped client\'s session, with the packets it missed, on the same node or on the other', async () => {
    const [one, two] = [await ioNode(), await ioNode()];
    const a = await connect(one.url, 'consultation-3');
    const b = await connect(one.url, 'consultation-3');
    const seenA = record<{ n: number }>(a, 'note');
    const seenB = record<{ n: number }>(b, 'note');
    one.io.to('consultation-3').emit('note', { n: 1 }); // gives both clients an offset in the stream
    await waitFor('the first note', async () => seenA.length + seenB.length, (n) => n === 2, 5_000, 20);
    const [idA, idB] = [a.id, b.id];
    a.io.engine.close();
    b.io.engine.close();
    await sleep(100);
    one.io.to('consultation-3').emit('note', { n: 2 }); // missed by both
    await sleep(100);

    // a comes back to the same node: socket.io's own reconnection.
    const aBack = new Promise<void>((resolve) => a.once('connect', () => resolve()));
    a.connect();
    await aBack;
    expect(a.recovered).toBe(true);
    expect(a.id).toBe(idA);

    // b comes back through the other node (after a failover, a load balancer's
    // choice): a new client there, presenting b's session id and last offset as
    // socket.io-client does on reconnection.
    const moved = ioClient(two.url, { transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false });
    closers.push(() => moved.close());
    const internals = (s: Socket) => s as unknown as { _pid?: string; _lastOffset?: string };
    expect(internals(b)._pid).toBeTruthy();
    internals(moved)._pid = internals(b)._pid;
    internals(moved)._lastOffset = internals(b)._lastOffset;
    const seenMoved = record<{ n: number }>(moved, 'note');
    await new Promise<void>((resolve, reject) => {
      moved.once('connect', () => resolve());
      moved.once('connect_error', reject);
      moved.connect();
    });
    expect(moved.recovered).toBe(true);
    expect(moved.id).toBe(idB);

    await waitFor('the missed note, on both', async () => [seenA.length, seenMoved.length], ([x, y]) => x === 2 && y === 1, 5_000, 20);
    expect(seenA.map((x) => x.n)).toEqual([1, 2]);
    expect(seenMoved.map((x) => x.n)).toEqual([2]);
    // The recovered session is back in its room, on node two.
    one.io.to('consultation-3').emit('note', { n: 3 });
    await waitFor('a later note', async () => seenMoved.length, (n) => n === 2, 5_000, 20);
  });
});

describe('a Redis outage', () => {
  it('costs a dropped client its recovery, not the server: the failed session save is reported, not thrown', async () => {
    const own = await startRedis();
    closers.push(() => own.stop());
    const lost: unknown[] = [];
    const node = await ioNode(own, (err) => lost.push(err));
    const socket = await connect(node.url, 'consultation-4');
    await own.stop();
    // The server saves the session of a client that drops: Redis is gone.
    socket.io.engine.close();
    await waitFor('the failed session save reported', async () => lost.length, (n) => n === 1, 10_000, 50);
    // An unhandled rejection would have failed this file (and ended a real server).
  });
});

describe('a Confide node with CONFIDE_REDIS_URL', () => {
  let server: ConfideServer;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    server = await startTestServer(
      { CONFIDE_GRACE_MS: '2000', CONFIDE_REDIS_URL: redis.url, CONFIDE_NODE_ID: 'node-a', CONFIDE_PUBLIC_URL: 'https://node-a.clinic.example', CONFIDE_ORIGINS: 'https://clinic.example,https://node-a.clinic.example' },
      { cluster: { prefix: 'confide-test:' } },
    );
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.close();
  });

  it('announces itself in the registry and runs socket.io on the Redis Streams adapter', async () => {
    expect(server.cluster?.nodeId).toBe('node-a');
    expect(server.io.of('/').adapter.constructor.name).toBe('RedisStreamsAdapter');
    const live = await waitFor('node-a announced', () => server.cluster!.registry.liveNodes(), (n) => n.length === 1);
    expect(live[0]).toMatchObject({ id: 'node-a', publicUrl: 'https://node-a.clinic.example', load: 0, draining: false });
  });

  it('recovers a dropped participant as the same participant, with the chat chunk it missed', async () => {
    const c = await TestConsultation.create(server);
    const { doctor, patient, patientJoin: joined } = await socketCall(server, c);
    sockets.push(doctor, patient);
    const peerId = (joined.data as { peerId: string }).peerId;
    // The heartbeat reports the participants of this node's rooms as its load.
    await waitFor('load 2 in the registry', () => server.cluster!.registry.liveNodes(), (n) => n[0]?.load === 2, 5_000, 100);

    const chat = record(patient, 'chatChunk');
    const states = record<{ state: string }>(doctor, 'peerConnection');
    patient.io.engine.close();
    await waitFor('the doctor told the patient is reconnecting', async () => states.length, (n) => n >= 1);
    const box = new Uint8Array(80).fill(7);
    expect((await send(doctor, 'chatChunk', { kid: 0, id: 'a'.repeat(32), index: 0, total: 1, box })).ok).toBe(true);
    const back = new Promise<void>((resolve) => patient.once('connect', () => resolve()));
    patient.connect();
    await back;
    expect(patient.recovered).toBe(true);
    expect((await send(patient, 'resume', {})).data).toEqual({ joined: true, peerId });
    await waitFor('the missed chat chunk', async () => chat.length, (n) => n === 1);
    await waitFor('the doctor told the patient is back', async () => states.length, (n) => n >= 2);
    expect(states[1]).toMatchObject({ state: 'connected' });
  });
});
