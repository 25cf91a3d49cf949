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
  /** Told when a dropped client's session could not be saved (Redis down): that client will rejoin in full. */
  onSessionLost?: (err: unknown) => void;
  /** Told when a server-side emit or adapter heartbeat could not be published (Redis down): it is lost. */
  onPublishLost?: (err: unknown) => void;
  /** Told when an entry of the stream could not be handled (malformed): it is skipped. */
  onBadEntry?: (err: unknown) => void;
}

export interface StreamsAdapter {
  /** For socket.io's `adapter` option, on one server only. */
  adapter: ServerOptions['adapter'];
  /** Closes the adapter's own connection; call after the socket.io server closed. */
  close(): Promise<void>;
}

/**
 * The Redis Streams adapter for one socket.io server. It publishes on a
 * connection of its own (a duplicate of `redis`, which stays the caller's),
 * and starts its stream reader and subscriber (more duplicates) at once;
 * those end when the server closes. The adapter saves a dropped client's
 * session without handling a failure (a Redis outage would be an unhandled
 * rejection, which ends a Node process): here that failure goes to
 * `onSessionLost` instead.
 */
export function redisStreamsAdapter(redis: Redis, opts: StreamsAdapterOptions): StreamsAdapter {
  const p = opts.prefix ?? 'confide:';
  const publisher = redis.duplicate();
  publisher.on('error', () => undefined); // the caller's own connection reports outages
  // The adapter makes its stream reader and subscriber with duplicate(): without a
  // listener, ioredis prints "Unhandled error event" on every failed reconnect.
  const duplicate = publisher.duplicate.bind(publisher);
  publisher.duplicate = (...args: Parameters<Redis['duplicate']>) => {
    const d = duplicate(...args);
    d.on('error', () => undefined);
    return d;
  };
  // The adapter's only SET is its session save (persistSession), whose promise it drops.
  const set = publisher.set.bind(publisher) as (...args: unknown[]) => Promise<unknown>;
  (publisher as unknown as { set: (...args: unknown[]) => Promise<unknown> }).set = (...args) =>
    set(...args).catch((err: unknown) => {
      opts.onSessionLost?.(err);
      return null;
    });
  // Its ephemeral messages (server-side emits, its heartbeats) are PUBLISHed and
  // the promise dropped too: with Redis down, each would be an unhandled
  // rejection, which ends the process (found by killing Redis under a node).
  const publish = publisher.publish.bind(publisher) as (...args: unknown[]) => Promise<unknown>;
  (publisher as unknown as { publish: (...args: unknown[]) => Promise<unknown> }).publish = (...args) =>
    publish(...args).catch((err: unknown) => {
      opts.onPublishLost?.(err);
      return 0;
    });
  const factory = createAdapter(publisher, {
    streamName: `${p}socket.io`,
    channelPrefix: `${p}socket.io`,
    sessionKeyPrefix: `${p}sio:session:`,
    maxLen: opts.maxLen,
    blockTimeInMs: opts.blockTimeMs ?? 1_000,
  }) as unknown as (nsp: unknown) => { onRawMessage(raw: unknown, offset: string): void };
  // A stream entry the adapter cannot handle (malformed, or hostile: Redis is
  // shared) throws out of its reader before the read offset moves on, so the
  // reader would read it again at once, forever: every node spinning on Redis.
  // Skipped here instead, so the offset moves past it.
  // A function, not an arrow: socket.io calls it with `new` (the object returned is the instance).
  const adapter = function wrapped(nsp: unknown) {
    const a = factory(nsp);
    const onRaw = a.onRawMessage.bind(a);
    a.onRawMessage = (raw, offset) => {
      try {
        onRaw(raw, offset);
      } catch (err) {
        opts.onBadEntry?.(err);
      }
    };
    return a;
  } as unknown as ServerOptions['adapter'];
  return {
    adapter,
    async close() {
      await publisher.quit().catch(() => publisher.disconnect());
    },
  };
}
