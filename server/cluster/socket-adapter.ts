// socket.io between nodes (issue 16): the socket.io project's Redis Streams
// adapter. Unlike its pub/sub adapter it keeps connection state recovery
// working: every packet a node sends goes through one Redis stream (XADD,
// its id is the packet's recovery offset), sessions of dropped clients are
// kept in Redis for maxDisconnectionDuration, and a client that reconnects
// (to this node or another) gets the packets it missed from the stream. So
// the stream, trimmed to about `maxLen` entries, is the recovery buffer in
// multi-node mode (the in-memory bound of recovery-adapter.ts does not apply):
// a client whose last packet was trimmed away rejoins in full.
import type { Redis } from 'ioredis';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { ServerOptions } from 'socket.io';

export interface StreamsAdapterOptions {
  /** Prefix of the stream, channels and session keys (default "confide:"), as the registry's. */
  prefix?: string;
  /** Entries kept in the stream (approximate trimming): the recovery window, in packets of the whole cluster. */
  maxLen: number;
  /** How long one XREAD waits for new entries (ms); also the longest a closed adapter's reader lingers. Default 1 000. */
  blockTimeMs?: number;
}

/**
 * The adapter constructor to give socket.io's `adapter` option (one per
 * server: it starts its stream reader and subscriber, duplicates of `redis`,
 * at once; they end when the server closes). `redis` stays the caller's.
 */
export function redisStreamsAdapter(redis: Redis, opts: StreamsAdapterOptions): ServerOptions['adapter'] {
  const p = opts.prefix ?? 'confide:';
  return createAdapter(redis, {
    streamName: `${p}socket.io`,
    channelPrefix: `${p}socket.io`,
    sessionKeyPrefix: `${p}sio:session:`,
    maxLen: opts.maxLen,
    blockTimeInMs: opts.blockTimeMs ?? 1_000,
  }) as unknown as ServerOptions['adapter'];
}
