// This node's part in a cluster (CONFIDE_REDIS_URL set): one Redis
// connection, the room registry with this node's heartbeat, a reaper of dead
// peers' entries, and the socket.io adapter that carries notifications
// between nodes. startConfide makes one; without Redis there is none.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ServerOptions } from 'socket.io';
import type { ClusterConfig } from './cluster-config.ts';
import { connectRedis } from './redis-client.ts';
import { ClusterRegistry, type RegistryTimings } from './room-registry.ts';
import { redisStreamsAdapter } from './socket-adapter.ts';
import { RoomHosting } from './room-hosting.ts';
import { StaffTickets } from './staff-tickets.ts';
import { ClusterPlacement, type RoomPlacement } from './room-placement.ts';

export interface ClusterNode {
  readonly nodeId: string;
  readonly publicUrl: string;
  readonly registry: ClusterRegistry;
  /** The entries of the rooms this node hosts: tell it as rooms open and close. */
  readonly hosting: RoomHosting;
  /** Where a consultation's room goes: here, or a redirect (PeerSession asks). */
  readonly placement: RoomPlacement;
  /** Staff tickets: minted with a redirect, redeemed at the handshake. */
  readonly tickets: StaffTickets;
  /** For socket.io's `adapter` option (signalling's `adapter`). */
  readonly adapter: ServerOptions['adapter'];
  readonly redis: Redis;
  /** Releases this node's rooms, stops the heartbeat (deleting its record) and the reaper, then closes Redis. Call after socket.io closed. */
  close(): Promise<void>;
}

export interface ClusterNodeOptions {
  /** This node's load for the heartbeat (participants in its rooms); read every beat. */
  load: () => number;
  /** A room this node opened is hosted by another node (`owner`), or was taken over (this node was frozen or cut off): close the local copy. */
  onLost: (roomId: string, owner: string | undefined) => void;
  /** Whether anything on this node still uses a consultation's registry entry (its room, or its waiting room). */
  inUse: (roomId: string) => boolean;
  log: Logger;
  /** Entries of the socket.io stream (limits.recoveryStreamEntries). */
  streamMaxLen: number;
  /** Key prefix (tests use their own); default "confide:". */
  prefix?: string;
  timings?: Partial<RegistryTimings>;
}

/**
 * Connects to Redis, announces this node (heartbeat every heartbeatEveryMs)
 * and reaps dead peers every nodeTtlMs. Rejects when Redis cannot be reached.
 */
export async function startClusterNode(cfg: ClusterConfig, opts: ClusterNodeOptions): Promise<ClusterNode> {
  const { log } = opts;
  const redis = await connectRedis(cfg.redisUrl, log);
  const registry = new ClusterRegistry(redis, {
    self: { id: cfg.nodeId, publicUrl: cfg.publicUrl },
    ...(opts.prefix ? { prefix: opts.prefix } : {}),
    ...(opts.timings ? { timings: opts.timings } : {}),
  });
  let warned = false;
  const heartbeat = registry.startHeartbeat(
    () => ({ load: opts.load() }),
    (err) => {
      // Once per outage: the connection's own log says when it is back.
      if (!warned) log.warn({ err: String(err) }, 'cluster heartbeat failed');
      warned = true;
    },
  );
  const reaper = setInterval(() => {
    registry
      .reapDead()
      .then((reaped) => {
        warned = false;
        for (const r of reaped) log.info({ nodeId: r.nodeId, rooms: r.rooms }, 'reaped the registry entries of a dead node');
      })
      .catch(() => undefined); // the heartbeat reports the outage
  }, registry.timings.nodeTtlMs);
  reaper.unref();
  const hosting = new RoomHosting(
    registry,
    {
      onLost: opts.onLost,
      onError: (err) => log.warn({ err: String(err) }, 'cluster registry step failed'),
    },
    opts.inUse,
  );
  hosting.start();
  const tickets = new StaffTickets(redis, cfg.nodeId, opts.prefix);
  const streams = redisStreamsAdapter(redis, {
    maxLen: opts.streamMaxLen,
    ...(opts.prefix ? { prefix: opts.prefix } : {}),
    onSessionLost: (err) => log.warn({ err: String(err) }, 'could not save a dropped connection\'s session in Redis: it will rejoin in full'),
    // The heartbeat reports the outage itself; a lost emit (live status, a staff action) is logged at debug only.
    onPublishLost: (err) => log.debug({ err: String(err) }, 'a cross-node message could not be published'),
    onBadEntry: (err) => log.warn({ err: String(err) }, 'skipped a malformed entry of the socket.io stream'),
  });
  return {
    nodeId: cfg.nodeId,
    publicUrl: cfg.publicUrl,
    registry,
    hosting,
    placement: new ClusterPlacement(registry, hosting, tickets, log),
    tickets,
    adapter: streams.adapter,
    redis,
    async close() {
      clearInterval(reaper);
      await hosting.stop();
      await heartbeat.stop().catch(() => undefined);
      await streams.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
