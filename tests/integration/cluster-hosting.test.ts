// The hosting node keeps its rooms' registry entries (issue 16), on a real
// Confide node and a real Redis: a room that opens is claimed and renewed
// past its TTL, one that empties is released; a room another live node
// holds is never opened here (the join is redirected); one taken over while
// this node was cut off is given up and its connections closed; a waiting
// room keeps its entry while someone waits in it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { startRedis, type RunningRedis } from '../support/redis.ts';
import { connectSocket, send } from '../support/socket-client.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { waitFor } from '../e2e/support/browser.ts';
import type { ConfideServer } from '../../server/app.ts';
import { ClusterRegistry, type RegistryTimings } from '../../server/cluster/room-registry.ts';

const PREFIX = 'hosting-test:';
/** Short enough to see a room outlive its TTL through renewals, long enough for a loaded machine. */
const TIMINGS: RegistryTimings = { nodeTtlMs: 5_000, heartbeatEveryMs: 200, roomTtlMs: 1_500, renewEveryMs: 250 };
let redis: RunningRedis;
let server: ConfideServer;
let client: Redis;
/** Another node, as seen by the registry (its own connection). */
let nodeB: ClusterRegistry;
const sockets: Socket[] = [];
/** node-b's load in its records: busier than node-a, so new rooms keep going to node-a. */
const BUSY = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function doctorJoins(c: TestConsultation): Promise<Socket> {
  const socket = await connectSocket(server.url, c.doctorSession);
  sockets.push(socket);
  expect((await send(socket, 'join', { roomId: c.id, displayName: 'Dr' })).ok).toBe(true);
  return socket;
}

beforeAll(async () => {
  redis = await startRedis();
  server = await startTestServer(
    { CONFIDE_REDIS_URL: redis.url, CONFIDE_NODE_ID: 'node-a', CONFIDE_PUBLIC_URL: 'https://node-a.clinic.example', CONFIDE_ORIGINS: 'https://clinic.example,https://node-a.clinic.example' },
    { cluster: { prefix: PREFIX, timings: TIMINGS } },
  );
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  nodeB = new ClusterRegistry(client, { self: { id: 'node-b', publicUrl: 'https://node-b.clinic.example' }, prefix: PREFIX, timings: TIMINGS });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
  client?.disconnect();
  await redis?.stop();
});

describe('a room of this node', () => {
  it('is claimed when it opens, kept past its TTL while it lives, and released when it empties', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await doctorJoins(c);
    await waitFor('the room claimed', () => nodeB.lookup(c.id), (w) => w?.nodeId === 'node-a', 5_000, 50);
    expect(server.cluster!.hosting.hosts(c.id)).toBe(true);
    await sleep(TIMINGS.roomTtlMs * 2); // alive only through renewals
    const where = await nodeB.lookup(c.id);
    expect(where?.nodeId).toBe('node-a');
    expect(where?.node).toMatchObject({ publicUrl: 'https://node-a.clinic.example', load: 1 });
    doctor.disconnect(); // an explicit leave: the room empties and closes
    await waitFor('the entry released', () => nodeB.lookup(c.id), (w) => w === undefined, 5_000, 50);
    expect(await client.smembers(`${PREFIX}node:node-a:rooms`)).not.toContain(c.id);
  });

  it('is not opened here when another live node holds its entry: the join is redirected there', async () => {
    const c = await TestConsultation.create(server);
    await nodeB.heartbeat(BUSY);
    expect(await nodeB.claim(c.id)).toBe('node-b');
    const socket = await connectSocket(server.url, c.doctorSession);
    sockets.push(socket);
    const ack = await send(socket, 'join', { roomId: c.id, displayName: 'Dr' });
    expect(ack.error).toMatchObject({ code: 'elsewhere', redirect: { nodeId: 'node-b', url: 'https://node-b.clinic.example' } });
    expect(server.rooms.peek(c.id)).toBeUndefined();
    expect(server.cluster!.hosting.hosts(c.id)).toBe(false);
    expect((await nodeB.lookup(c.id))?.nodeId).toBe('node-b');
    await nodeB.release(c.id);
  });

  it('is given up when another node took it over: renewals refused, the entry left to the new owner, its connections closed', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await doctorJoins(c);
    await waitFor('the room claimed', async () => server.cluster!.hosting.hosts(c.id), (h) => h, 5_000, 50);
    const closed = new Promise<string>((resolve) => doctor.once('disconnect', (reason) => resolve(reason)));
    // As if node-a had been cut off past its node TTL and node-b had taken the room over.
    await nodeB.heartbeat(BUSY);
    await client.set(`${PREFIX}room:${c.id}`, 'node-b', 'PX', 60_000);
    await waitFor('node-a gives the room up', async () => server.cluster!.hosting.hosts(c.id), (h) => !h, 5_000, 50);
    expect((await nodeB.lookup(c.id))?.nodeId).toBe('node-b');
    // Two copies of one room must not go on: the doctor here is cut off, to rejoin (and be redirected).
    expect(await closed).toBe('io server disconnect');
    await waitFor('the local copy closed', async () => server.rooms.peek(c.id), (r) => r === undefined, 5_000, 50);
  });

  it('is claimed back, its call untouched, when its entry vanished but no other node took it (this node frozen past its TTL, then reaped)', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await doctorJoins(c);
    await waitFor('the room claimed', () => nodeB.lookup(c.id), (w) => w?.nodeId === 'node-a', 5_000, 50);
    let cut = false;
    doctor.once('disconnect', () => (cut = true));
    await client.del(`${PREFIX}room:${c.id}`);
    await sleep(TIMINGS.renewEveryMs * 3);
    expect((await nodeB.lookup(c.id))?.nodeId).toBe('node-a');
    expect(server.cluster!.hosting.hosts(c.id)).toBe(true);
    expect(cut).toBe(false);
    expect(server.rooms.peek(c.id)?.peerCount).toBe(1);
  });

  it('placed here but never used (the patient left the waiting room): released after a renewal period', async () => {
    const c = await TestConsultation.create(server);
    const patient = await connectSocket(server.url);
    sockets.push(patient);
    expect((await send(patient, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
    await waitFor('placed on node-a', () => nodeB.lookup(c.id), (w) => w?.nodeId === 'node-a', 5_000, 50);
    await sleep(TIMINGS.roomTtlMs * 2); // kept while the patient waits
    expect((await nodeB.lookup(c.id))?.nodeId).toBe('node-a');
    patient.disconnect();
    await waitFor('the entry released', () => nodeB.lookup(c.id), (w) => w === undefined, 5_000, 50);
  });
});

describe('a node that stops cleanly', () => {
  it('releases its rooms and withdraws its record at once', async () => {
    const c = await TestConsultation.create(server);
    await doctorJoins(c);
    await waitFor('the room claimed', () => nodeB.lookup(c.id), (w) => w?.nodeId === 'node-a', 5_000, 50);
    for (const s of sockets.splice(0)) s.close();
    const closing = server;
    server = undefined as unknown as ConfideServer;
    await closing.close();
    expect(await nodeB.lookup(c.id)).toBeUndefined();
    expect((await nodeB.liveNodes()).map((n) => n.id)).not.toContain('node-a');
  });
});
