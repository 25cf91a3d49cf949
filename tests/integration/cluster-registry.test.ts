// The room registry of several nodes (issue 16), against a real Redis
// (Debian's redis-server, started here on a loopback port): a room has one
// owner however claims race, only the owner renews or releases it, a dead
// node's rooms are taken over or reaped (no orphan entries), and new rooms go
// to the least-loaded live node. Each node is its own Redis connection, as
// separate processes would be.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RunningRedis } from '../support/redis.ts';
import { ClusterRegistry, type RegistryTimings } from '../../server/cluster/room-registry.ts';

let redis: RunningRedis;
const clients: Redis[] = [];
let n = 0;
/** Each test's keys under a prefix of its own. */
let prefix = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * TTLs (ms). Nothing expires by accident under LONG, even on a loaded
 * machine; a node that should die in a test gets DIES_FAST, and the waits
 * for an expiry are generous.
 */
const LONG: RegistryTimings = { nodeTtlMs: 10_000, heartbeatEveryMs: 1_000, roomTtlMs: 30_000, renewEveryMs: 5_000 };
const DIES_FAST: RegistryTimings = { ...LONG, nodeTtlMs: 500, heartbeatEveryMs: 100 };
const past = (ms: number) => sleep(ms + 400);

function node(id: string, timings: Partial<RegistryTimings> = LONG): ClusterRegistry {
  const c = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  clients.push(c);
  return new ClusterRegistry(c, { self: { id, publicUrl: `https://${id}.clinic.example` }, prefix, timings });
}


/** Every key under this test's prefix (what is left in Redis). */
async function keys(): Promise<string[]> {
  return (await clients[0]!.keys(`${prefix}*`)).sort();
}

beforeAll(async () => {
  redis = await startRedis();
});
beforeEach(() => {
  prefix = `t${++n}:`;
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis?.stop();
});

describe('claiming a room', () => {
  it('has exactly one winner when two nodes claim at once, each told who won', async () => {
    const a = node('node-a');
    const b = node('node-b');
    await Promise.all([a.heartbeat(0), b.heartbeat(0)]);
    const rooms = Array.from({ length: 40 }, (_, i) => `c${i}`);
    const results = await Promise.all(rooms.map((r) => Promise.all([a.claim(r), b.claim(r)])));
    for (const [i, [fromA, fromB]] of results.entries()) {
      expect(fromA, rooms[i]).toBe(fromB);
      expect(['node-a', 'node-b']).toContain(fromA);
      expect((await a.lookup(rooms[i]!))?.nodeId).toBe(fromA);
    }
    // A later claim by the loser, while the owner lives, changes nothing.
    expect(await b.claim('c0')).toBe(results[0]![0]);
  });

  it('refuses renew and release by a node that does not own the room', async () => {
    const a = node('node-a');
    const b = node('node-b');
    await a.heartbeat(1);
    expect(await a.claim('room-1')).toBe('node-a');
    expect(await b.renew('room-1')).toBe(false);
    expect(await b.release('room-1')).toBe(false);
    expect((await b.lookup('room-1'))?.nodeId).toBe('node-a');
    expect(await b.renewAll(['room-1'])).toEqual(['room-1']);
    expect(await a.renewAll(['room-1'])).toEqual([]);
    expect(await a.renew('room-1')).toBe(true);
    expect(await a.release('room-1')).toBe(true);
    expect(await a.lookup('room-1')).toBeUndefined();
    // Released: nothing of the room is left, not even in the owner's index.
    expect(await keys()).toEqual([`${prefix}node:node-a`, `${prefix}nodes`]);
  });

  it('keeps an entry alive while its owner renews, and lets it expire when it stops', async () => {
    const t = { ...LONG, roomTtlMs: 1_500, renewEveryMs: 250 };
    const a = node('node-a', t);
    await a.heartbeat(0);
    await a.claim('room-2');
    for (let i = 0; i < 8; i++) {
      await sleep(t.renewEveryMs);
      expect(await a.renew('room-2')).toBe(true);
    }
    // 2 s after the claim, past one TTL: alive only through the renewals.
    expect((await a.lookup('room-2'))?.nodeId).toBe('node-a');
    await past(t.roomTtlMs);
    expect(await a.lookup('room-2')).toBeUndefined();
    expect(await a.renew('room-2')).toBe(false);
  });

  it('rejects malformed room ids before Redis sees them', async () => {
    const a = node('node-a');
    await expect(a.claim('x y')).rejects.toThrow(TypeError);
    await expect(a.lookup('a:b')).rejects.toThrow(TypeError);
    await expect(a.claim('')).rejects.toThrow(TypeError);
    expect(() => node('bad:id')).toThrow(TypeError);
  });
});

describe('a node that dies', () => {
  it('loses its rooms to the next claimer once its heartbeat expired, and cannot renew them afterwards', async () => {
    const a = node('node-a', DIES_FAST);
    const b = node('node-b');
    await Promise.all([a.heartbeat(0), b.heartbeat(0)]);
    expect(await a.claim('room-3')).toBe('node-a');
    expect(await b.claim('room-3')).toBe('node-a');
    // node-a stops beating (SIGKILL): its room entry (30 s) outlives its record (500 ms).
    await past(DIES_FAST.nodeTtlMs);
    const where = await b.lookup('room-3');
    expect(where?.nodeId).toBe('node-a');
    expect(where?.node).toBeUndefined(); // owner known dead
    expect(await b.claim('room-3')).toBe('node-b'); // taken over at once, not after the entry's TTL
    expect((await b.lookup('room-3'))?.node?.publicUrl).toBe('https://node-b.clinic.example');
    // node-a wakes up (it was only frozen): its renewals are refused, so it closes its copy.
    await a.heartbeat(0);
    expect(await a.renew('room-3')).toBe(false);
    expect(await a.renewAll(['room-3'])).toEqual(['room-3']);
    expect(await a.claim('room-3')).toBe('node-b');
  });

  it('is reaped by a live peer: its entries go at once and no orphan key stays', async () => {
    const a = node('node-a', { ...DIES_FAST, nodeTtlMs: 1_500 });
    const b = node('node-b');
    await Promise.all([a.heartbeat(0), b.heartbeat(0)]);
    for (const r of ['r1', 'r2', 'r3']) await a.claim(r);
    await b.claim('r4');
    expect(await b.reapDead()).toEqual([]); // node-a is live: nothing reaped
    expect(await a.lookup('r1')).toBeDefined();
    await past(1_500);
    expect(await b.reapDead()).toEqual([{ nodeId: 'node-a', rooms: 3 }]);
    for (const r of ['r1', 'r2', 'r3']) expect(await b.lookup(r)).toBeUndefined();
    expect(await keys()).toEqual([`${prefix}node:node-b`, `${prefix}node:node-b:rooms`, `${prefix}nodes`, `${prefix}room:r4`]);
    expect(await b.reapDead()).toEqual([]); // twice is harmless
  });

  it('is not reaped when its record came back, and a stopped heartbeat withdraws the node at once', async () => {
    const a = node('node-a', { ...LONG, nodeTtlMs: 1_500, heartbeatEveryMs: 100 });
    const b = node('node-b');
    const beat = a.startHeartbeat(() => ({ load: 2 }), (err) => {
      throw err;
    });
    await sleep(50);
    await a.claim('r5');
    await past(1_500); // beats kept it live throughout
    expect(await b.reapDead()).toEqual([]);
    expect((await b.lookup('r5'))?.node?.load).toBe(2);
    await beat.stop();
    expect((await b.lookup('r5'))?.node).toBeUndefined(); // record deleted by stop(), no wait for its TTL
    expect(await b.reapDead()).toEqual([{ nodeId: 'node-a', rooms: 1 }]);
  });
});

describe('placing a new room', () => {
  it('goes to the least-loaded live node that is not draining, skipping dead and unreadable records', async () => {
    const a = node('node-a');
    const b = node('node-b');
    const c = node('node-c');
    const d = node('node-d');
    const dead = node('node-e', DIES_FAST);
    await Promise.all([a.heartbeat(5), b.heartbeat(1), c.heartbeat(3), d.heartbeat(0, true), dead.heartbeat(0)]);
    await past(DIES_FAST.nodeTtlMs); // node-e has died
    // A hostile or stale record in Redis is skipped, not trusted.
    await clients[0]!.sadd(`${prefix}nodes`, 'node-x');
    await clients[0]!.set(`${prefix}node:node-x`, '{"id":"node-x","publicUrl":"javascript:alert(1)","load":-1,"draining":false}');
    expect((await a.liveNodes()).map((x) => x.id)).toEqual(['node-d', 'node-b', 'node-c', 'node-a']);
    expect((await a.leastLoaded())?.id).toBe('node-b');
    expect(await a.place('new-room')).toBe('node-b');
    // The chosen node finds the entry its own when the participant reaches it.
    expect(await b.claim('new-room')).toBe('node-b');
    expect(await b.renew('new-room')).toBe(true);
    // An existing live owner wins over a new choice.
    await b.heartbeat(10);
    expect((await a.leastLoaded())?.id).toBe('node-c');
    expect(await a.place('new-room')).toBe('node-b');
    expect(await a.place('other-room')).toBe('node-c');
  });

  it('falls back to the asking node when no node is announced', async () => {
    const a = node('node-a');
    expect(await a.leastLoaded()).toBeUndefined();
    expect(await a.place('lonely')).toBe('node-a');
  });
});
