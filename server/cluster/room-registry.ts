// Which Confide node hosts which consultation's room, in Redis (issue 16): a
// room lives on exactly one node, whose mediasoup carries all its media. Any
// node can ask where a room is (lookup), put a new room on the least-loaded
// live node (place), or take a room whose node died (place again: a dead
// owner does not count). Only the owner renews or releases its entry. Each
// node announces itself with a heartbeat record that expires, so a node that
// dies (SIGKILL, lost power, cut off) stops counting as live within nodeTtlMs,
// and a peer that notices reaps its entries (reapDead). All times come from
// Redis's clock (PX TTLs), never from the nodes'. The steps are Lua scripts
// (registry-scripts.ts), each atomic.
import { Redis } from 'ioredis';
import { z } from 'zod';
import { PLACE, REAP, RELEASE, RENEW, type LuaScript } from './registry-scripts.ts';
import { NODE_ID_PATTERN } from '../../shared/protocol/cluster.ts';
import { RoomId } from '../../shared/protocol/signalling.ts';

/** How long entries live without renewal (ms), and how often this node renews them. */
export interface RegistryTimings {
  /** A node record (heartbeat) lives this long (ms): a dead node stops being live within it. Default 4 000. */
  nodeTtlMs: number;
  /** The node record is rewritten this often (ms); well under nodeTtlMs so one late beat is no death. Default 1 000. */
  heartbeatEveryMs: number;
  /** A room entry lives this long without renewal (ms). Default 15 000. */
  roomTtlMs: number;
  /** The owner renews its room entries this often (ms). Default 5 000. */
  renewEveryMs: number;
}

/**
 * Defaults. The node TTL is short because failover has 10 s in all (issue 16):
 * a node dead for more than 4 s is known dead, leaving the rest for the
 * rebuild. A room entry outlives its node's record: a dead owner is seen
 * through its record (place, reapDead), and the entry itself expires later
 * only as a last resort (no live node left to reap it).
 */
export const DEFAULT_TIMINGS: RegistryTimings = { nodeTtlMs: 4_000, heartbeatEveryMs: 1_000, roomTtlMs: 15_000, renewEveryMs: 5_000 };

/** What a node says of itself in its heartbeat. */
export interface NodeRecord {
  /** CONFIDE_NODE_ID. */
  id: string;
  /** CONFIDE_PUBLIC_URL: where clients reach this node (its origin). */
  publicUrl: string;
  /** The node's load, in the caller's unit (Confide: participants in its rooms); lower is chosen first. */
  load: number;
  /** A node shutting down takes no new room (it stays live for the rooms it hosts). */
  draining: boolean;
}

/** Another node's record as read back from Redis: checked, since Redis is shared and may hold anything. */
const nodeRecordSchema = z.object({
  id: z.string().regex(NODE_ID_PATTERN),
  publicUrl: z.string().url().max(2048),
  load: z.number().finite().nonnegative(),
  draining: z.boolean(),
});

/** Where a room lives: its node's id, and that node's record if the node is live. */
export interface RoomLocation {
  nodeId: string;
  /** Undefined when the owner's record is gone (dead node) or unreadable. */
  node: NodeRecord | undefined;
}

export interface ClusterRegistryOptions {
  /** This node's id and public URL. */
  self: { id: string; publicUrl: string };
  /** Prefix of every key (default "confide:"); several deployments (or tests) can share one Redis. */
  prefix?: string;
  timings?: Partial<RegistryTimings>;
}

type ScriptName = 'confidePlace' | 'confideRenew' | 'confideRelease' | 'confideReap';
type Scripted = Redis & Record<ScriptName, (...keysThenArgs: (string | number)[]) => Promise<string | number | null>>;

const SCRIPTS: Record<ScriptName, LuaScript> = {
  confidePlace: PLACE,
  confideRenew: RENEW,
  confideRelease: RELEASE,
  confideReap: REAP,
};

/**
 * The room registry of one node. Uses `redis` (an ioredis client, owned by
 * the caller; scripts are defined on it, EVALSHA with EVAL fallback).
 * Methods reject when Redis cannot be reached (ioredis retries first; see its
 * maxRetriesPerRequest) and throw TypeError on a malformed room id.
 */
export class ClusterRegistry {
  readonly self: { id: string; publicUrl: string };
  readonly timings: RegistryTimings;
  private readonly p: string;
  private readonly redis: Scripted;

  constructor(redis: Redis, opts: ClusterRegistryOptions) {
    if (!NODE_ID_PATTERN.test(opts.self.id)) throw new TypeError('invalid node id');
    this.self = opts.self;
    this.p = opts.prefix ?? 'confide:';
    this.timings = { ...DEFAULT_TIMINGS, ...opts.timings };
    const t = this.timings;
    if (t.heartbeatEveryMs >= t.nodeTtlMs || t.renewEveryMs >= t.roomTtlMs) throw new RangeError('renew more often than entries expire');
    for (const [name, s] of Object.entries(SCRIPTS)) {
      // defineCommand is idempotent per client, so several registries may share one.
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
    }
    this.redis = redis as Scripted;
  }

  private roomKey(roomId: string): string {
    // The protocol's room ids: bounded, no key separator (`:`) or spaces.
    if (!RoomId.safeParse(roomId).success) throw new TypeError('invalid room id');
    return `${this.p}room:${roomId}`;
  }
  private nodeKey(nodeId: string): string {
    return `${this.p}node:${nodeId}`;
  }
  private nodeRoomsKey(nodeId: string): string {
    return `${this.p}node:${nodeId}:rooms`;
  }
  private get nodesKey(): string {
    return `${this.p}nodes`;
  }

  /**
   * Announces this node as live for nodeTtlMs, with its `load` (≥ 0) and
   * whether it is `draining`. Call every heartbeatEveryMs (startHeartbeat does).
   */
  async heartbeat(load: number, draining = false): Promise<void> {
    const record: NodeRecord = { ...this.self, load, draining };
    await this.redis
      .multi()
      .set(this.nodeKey(this.self.id), JSON.stringify(record), 'PX', this.timings.nodeTtlMs)
      .sadd(this.nodesKey, this.self.id)
      .exec();
  }

  /**
   * Runs heartbeat(load()) now and every heartbeatEveryMs until the returned
   * stop() (which also deletes this node's record, so peers see it gone at
   * once). A failed beat is reported to `onError` and retried on the next tick.
   */
  startHeartbeat(load: () => { load: number; draining?: boolean }, onError: (err: unknown) => void): { stop(): Promise<void> } {
    let stopped = false;
    const beat = () => {
      const l = load();
      this.heartbeat(l.load, l.draining).catch(onError);
    };
    beat();
    const timer = setInterval(beat, this.timings.heartbeatEveryMs);
    timer.unref();
    return {
      stop: async () => {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        await this.redis.del(this.nodeKey(this.self.id));
      },
    };
  }

  /** The live nodes' records (unreadable ones skipped), least loaded first, then by id. */
  async liveNodes(): Promise<NodeRecord[]> {
    const ids = await this.redis.smembers(this.nodesKey);
    if (ids.length === 0) return [];
    const raw = await this.redis.mget(ids.map((id) => this.nodeKey(id)));
    const nodes: NodeRecord[] = [];
    raw.forEach((r, i) => {
      const n = r === null ? undefined : parseRecord(r);
      if (n && n.id === ids[i]) nodes.push(n);
    });
    return nodes.sort((a, b) => a.load - b.load || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The live node that should host a new room: least loaded and not draining; undefined if none is live. */
  async leastLoaded(): Promise<NodeRecord | undefined> {
    return (await this.liveNodes()).find((n) => !n.draining);
  }

  /** Where `roomId` lives now, or undefined if no node has it. */
  async lookup(roomId: string): Promise<RoomLocation | undefined> {
    const nodeId = await this.redis.get(this.roomKey(roomId));
    if (nodeId === null) return undefined;
    const raw = await this.redis.get(this.nodeKey(nodeId));
    const node = raw === null ? undefined : parseRecord(raw);
    return { nodeId, node: node?.id === nodeId ? node : undefined };
  }

  /**
   * Claims `roomId` for this node, atomically: it becomes ours unless a live
   * node holds it (then that node's id is returned). A room whose owner is
   * dead is taken over (its entry moves to us). Returns the owner's id: ours
   * if the claim won. Two claimers racing: exactly one wins.
   */
  async claim(roomId: string): Promise<string> {
    return this.placeOn(roomId, this.self.id);
  }

  /**
   * Puts `roomId` on a node if no live node has it: on the least-loaded live
   * node (not draining), or on this node if none is announced. Returns the
   * owner's id (an existing live owner wins over the choice). The chosen node
   * must renew the entry once it hosts the room, or it expires after roomTtlMs.
   */
  async place(roomId: string): Promise<string> {
    const target = (await this.leastLoaded())?.id ?? this.self.id;
    return this.placeOn(roomId, target);
  }

  private async placeOn(roomId: string, nodeId: string): Promise<string> {
    const key = this.roomKey(roomId);
    return String(await this.redis.confidePlace(key, nodeId, this.timings.roomTtlMs, this.p, roomId));
  }

  /** Resets the TTL of `roomId`'s entry if this node owns it. False: not ours (any more): the caller must stop hosting it. */
  async renew(roomId: string): Promise<boolean> {
    return (await this.redis.confideRenew(this.roomKey(roomId), this.self.id, this.timings.roomTtlMs)) === 1;
  }

  /** Deletes `roomId`'s entry if this node owns it (the room closed). False: not ours, left alone. */
  async release(roomId: string): Promise<boolean> {
    const r = await this.redis.confideRelease(this.roomKey(roomId), this.nodeRoomsKey(this.self.id), this.self.id, roomId);
    return r === 1;
  }

  /**
   * Renews every room of `roomIds` (this node's rooms), in one round trip.
   * Returns the ids this node no longer owns (taken over while it was cut
   * off): the caller closes those rooms.
   */
  async renewAll(roomIds: readonly string[]): Promise<string[]> {
    if (roomIds.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of roomIds) (pipe as unknown as Scripted).confideRenew(this.roomKey(id), this.self.id, this.timings.roomTtlMs);
    const results = (await pipe.exec()) ?? [];
    const lost: string[] = [];
    results.forEach(([err, r], i) => {
      // A Redis error is not a lost room: the next round tries again.
      if (!err && r !== 1) lost.push(roomIds[i]!);
    });
    return lost;
  }

  /**
   * Deletes the entries of every announced node whose record expired (dead),
   * atomically per node (a node whose record came back is left alone).
   * Returns the reaped nodes' ids with how many room entries each still had.
   * Any live node may run this; running it twice is harmless.
   */
  async reapDead(): Promise<{ nodeId: string; rooms: number }[]> {
    const ids = await this.redis.smembers(this.nodesKey);
    const reaped: { nodeId: string; rooms: number }[] = [];
    for (const id of ids) {
      if (id === this.self.id) continue;
      const n = Number(await this.redis.confideReap(this.nodeKey(id), this.nodeRoomsKey(id), this.nodesKey, id, this.p));
      if (n >= 0) reaped.push({ nodeId: id, rooms: n });
    }
    return reaped;
  }
}

/** A node record from its JSON, or undefined if it is not one. */
function parseRecord(raw: string): NodeRecord | undefined {
  try {
    const r = nodeRecordSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
