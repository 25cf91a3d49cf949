// Assembles Confide's server: worker pool, rooms, HTTP and signalling.
// Used by server/main.ts and by the tests (in-process, on port 0).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { Server as IoServer } from 'socket.io';
import fs from 'node:fs';
import type { Config, TlsFiles } from './config.ts';
import { WorkerPool } from './sfu/worker-pool.ts';
import { RoomRegistry } from './rooms/room-registry.ts';
import { createHttpApp } from './http/http-app.ts';
import { attachSignalling } from './signalling/socket-server.ts';
import type { PeerSession, RelayTamper } from './signalling/peer-session.ts';
import type { HeldSessions } from './signalling/held-sessions.ts';
import { databaseTarget, openStores, type Stores } from './store/index.ts';
import { limitsWith, type DeepPartial, type Limits } from './limits.ts';
import { trustFn } from './http/client-ip.ts';
import { registerApi } from './http/api.ts';
import { Consultations } from './consultations/consultations.ts';
import type { PasswordHasher } from './auth/passwords.ts';
import { Metrics } from './ops/metrics.ts';
import { registerOps } from './ops/ops-routes.ts';
import { Coturn } from './turn/coturn.ts';
import { turnIceServers } from './turn/turn-credentials.ts';
import { startClusterNode, type ClusterNode } from './cluster/cluster-node.ts';
import type { RegistryTimings } from './cluster/room-registry.ts';
import { clusterEvents, type ClusterEvents } from './cluster/cluster-events.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ConfideServer {
  url: string;
  /** The HTTP server, or with built-in TLS the HTTPS one (a tls.Server too). */
  httpServer: import('node:http').Server;
  /** Built-in TLS: reads the certificate and key files again (renewed certificates), for new connections. Throws on unreadable files. */
  reloadTls(): void;
  rooms: RoomRegistry;
  /** The SFU worker pool (tests kill workers to prove recovery). */
  pool: WorkerPool;
  /** Participants whose connection dropped, held for the grace period. */
  held: HeldSessions<PeerSession>;
  stores: Stores;
  consultations: Consultations;
  /** The TURN relay Confide runs (coturn), if configured and not external. */
  turn: Coturn | undefined;
  /** Prometheus counters and gauges (served at /metrics). */
  metrics: Metrics;
  io: IoServer;
  log: Logger;
  /**
   * Several nodes (CONFIDE_REDIS_URL): this node's Redis, room registry and
   * heartbeat; socket.io runs on the Redis Streams adapter. Undefined: one node.
   * The registry is not consulted by joins yet (docs/architecture.md, Several nodes).
   */
  cluster: ClusterNode | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  clientDir?: string;
  /** Test-only malicious-relay hook (see RelayTamper). */
  tamper?: RelayTamper;
  /** Password hashing; production cost (OWASP scrypt) unless a test passes a cheaper one. Code only, never configuration. */
  passwordHasher?: PasswordHasher;
  /** Overrides of the server's limits (tests use short timeouts); code only. */
  limits?: DeepPartial<Limits>;
  /** Several nodes: the Redis key prefix (default "confide:") and registry timings; tests sharing one Redis use their own. Code only. */
  cluster?: { prefix?: string; timings?: Partial<RegistryTimings> };
}

/** The PEM certificate chain and key of `files` (throws with the path when one cannot be read). */
function readTls(files: TlsFiles): { cert: Buffer; key: Buffer } {
  const read = (f: string, what: string) => {
    try {
      return fs.readFileSync(f);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} ${f}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  return { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'key') };
}

export async function startConfide(cfg: Config, opts: StartOptions = {}): Promise<ConfideServer> {
  const log = opts.logger ?? pino({ level: cfg.logLevel });
  const limits = limitsWith({ ...opts.limits, sockets: { perIp: cfg.maxSocketsPerIp, ...opts.limits?.sockets } });
  const pool = await WorkerPool.create({
    size: cfg.numWorkers,
    rtcMinPort: cfg.rtcMinPort,
    rtcMaxPort: cfg.rtcMaxPort,
    listen: cfg.media,
    logger: log,
  });
  const turnCfg = cfg.turn;
  let turn: Coturn | undefined;
  try {
    turn = turnCfg && !turnCfg.external ? await Coturn.start(turnCfg, log) : undefined;
  } catch (err) {
    pool.close();
    throw err;
  }
  const rooms = new RoomRegistry(
    pool,
    {
      listen: cfg.media,
      keyFrameEveryMs: limits.requests.keyFrameEveryMs,
      ...(turnCfg ? { iceServers: (ttlMs?: number) => turnIceServers(ttlMs ? { ...turnCfg, ttlMs } : turnCfg) } : {}),
    },
    log,
  );
  let stores: Stores;
  try {
    stores = await openStores(databaseTarget(cfg.dataDir, cfg.databaseUrl), {
      ...(opts.passwordHasher ? { passwordHasher: opts.passwordHasher } : {}),
      onPoolError: (err) => log.error({ err: err.message }, 'database connection lost'),
    });
  } catch (err) {
    pool.close();
    await turn?.close();
    throw err;
  }
  const consultations = new Consultations(stores, rooms, log, limits.requests.waitingRoomEntries);
  const metrics = new Metrics(rooms, pool);
  let cluster: ClusterNode | undefined;
  let events: ClusterEvents | undefined;
  // Bound once signalling is attached (after the cluster node, whose adapter it needs).
  let evictRoom: (consultationId: string) => void = () => undefined;
  let stopRelayingRevocations = (): void => undefined;
  try {
    cluster = cfg.cluster
      ? await startClusterNode(cfg.cluster, {
          log,
          load: () => rooms.all().reduce((n, r) => n + r.peerCount, 0),
          streamMaxLen: limits.recoveryStreamEntries,
          // Taken over while this node was frozen or cut off from Redis: two copies of a
          // room must not go on. Ours closes its connections; they rejoin from home and
          // are redirected to the new owner.
          onLost: (roomId, owner) => {
            log.warn({ roomId, owner }, 'a room of this node is hosted by another node: its connections are closed');
            evictRoom(roomId);
          },
          inUse: (roomId) => consultations.inUseHere(roomId),
          ...opts.cluster,
        })
      : undefined;
    if (cluster) {
      const hosting = cluster.hosting;
      rooms.onRoomOpened = (id) => void hosting.opened(id);
      rooms.onRoomClosed = (id) => void hosting.closed(id);
    }
  } catch (err) {
    pool.close();
    await turn?.close();
    await stores.db.close();
    throw err;
  }
  consultations.onConnectionEvent = (event) => metrics.connection(event);
  const http = await createHttpApp({
    ...(cfg.tls ? { https: readTls(cfg.tls) } : {}),
    clientDir: opts.clientDir ?? path.join(root, 'dist', 'client'),
    logger: log,
    trustProxy: cfg.trustProxy,
    hsts: cfg.cookieSecure,
    limits: limits.http,
    healthy: () => pool.pids.length > 0,
    // Several nodes: a page may follow a redirect to any origin of the deployment.
    ...(cluster && cfg.allowedOrigins ? { nodeOrigins: [...cfg.allowedOrigins] } : {}),
    api: (app) => {
      registerOps(app, { metrics, metricsToken: cfg.metricsToken });
      return registerApi(app, {
        stores,
        cookieSecure: cfg.cookieSecure,
        allowedOrigins: cfg.allowedOrigins,
        linkReplaced: (id) => {
          consultations.dropWaiting(id);
          events?.waitingDropped(id);
        },
        live: (id) => consultations.live(id),
        endConsultation: (id, actor) =>
          consultations
            .end(id, actor)
            .then(() => events?.ended(id))
            .catch((err: unknown) => log.error({ err: String(err) }, 'end failed')),
      });
    },
  });
  const signalling = attachSignalling(
    http.server,
    {
      rooms,
      consultations,
      log,
      sessions: stores.sessions,
      metrics,
      ...(opts.tamper ? { tamper: opts.tamper } : {}),
      ...(cluster ? { placement: cluster.placement, tickets: cluster.tickets } : {}),
    },
    {
      graceMs: cfg.graceMs,
      limits,
      trust: trustFn(cfg.trustProxy),
      allowedOrigins: cfg.allowedOrigins,
      ...(cluster ? { adapter: cluster.adapter } : {}),
    },
  );
  const io = signalling.io;
  evictRoom = (id) => signalling.evict(id);
  // Several nodes: staff actions and live status reach the other nodes (cluster-events.ts).
  events = cluster
    ? clusterEvents(
        io,
        {
          ended: (id) => void consultations.endHere(id).catch((err: unknown) => log.error({ err: String(err) }, 'end failed')),
          waitingDropped: (id) => consultations.dropWaiting(id),
          revoked: (r) => signalling.revoke(r),
        },
        () => consultations.liveHere(),
      )
    : undefined;
  if (events) {
    const board = events.board;
    consultations.remoteLive = (id) => board.get(id);
    const tell = events;
    stopRelayingRevocations = stores.sessions.onRevoked((r) => tell.revoked(r));
  }
  await http.listen({ host: cfg.host, port: cfg.port });
  const { port } = http.server.address() as AddressInfo;
  const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;

  return {
    url: `${cfg.tls ? 'https' : 'http'}://${host}:${port}`,
    httpServer: http.server,
    reloadTls() {
      if (cfg.tls) (http.server as unknown as import('node:tls').Server).setSecureContext(readTls(cfg.tls));
    },
    rooms,
    pool,
    held: signalling.held,
    stores,
    consultations,
    turn,
    metrics,
    io,
    log,
    cluster,
    async close() {
      events?.close();
      stopRelayingRevocations();
      signalling.close();
      await cluster?.close();
      await rooms.closeAll();
      await http.close();
      pool.close();
      await turn?.close();
      await stores.db.close();
    },
  };
}
