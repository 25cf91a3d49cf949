// Assembles Confide's server: worker pool, rooms, HTTP and signalling.
// Used by server/main.ts and by the tests (in-process, on port 0).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { Server as IoServer } from 'socket.io';
import type { Config } from './config.ts';
import { WorkerPool } from './sfu/worker-pool.ts';
import { RoomRegistry } from './rooms/room-registry.ts';
import { createHttpApp } from './http/http-app.ts';
import { attachSignalling } from './signalling/socket-server.ts';
import type { PeerSession, RelayTamper } from './signalling/peer-session.ts';
import type { HeldSessions } from './signalling/held-sessions.ts';
import { openStores, type Stores } from './store/index.ts';
import { limitsWith, type DeepPartial, type Limits } from './limits.ts';
import { trustFn } from './http/client-ip.ts';
import { registerApi } from './http/api.ts';
import { Consultations } from './consultations/consultations.ts';
import type { PasswordHasher } from './auth/passwords.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ConfideServer {
  url: string;
  httpServer: import('node:http').Server;
  rooms: RoomRegistry;
  /** The SFU worker pool (tests kill workers to prove recovery). */
  pool: WorkerPool;
  /** Participants whose connection dropped, held for the grace period. */
  held: HeldSessions<PeerSession>;
  stores: Stores;
  consultations: Consultations;
  io: IoServer;
  log: Logger;
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
}

export async function startConfide(cfg: Config, opts: StartOptions = {}): Promise<ConfideServer> {
  const log = opts.logger ?? pino({ level: cfg.logLevel });
  const limits = limitsWith({ ...opts.limits, sockets: { perIp: cfg.maxSocketsPerIp, ...opts.limits?.sockets } });
  const pool = await WorkerPool.create({
    size: cfg.numWorkers,
    rtcMinPort: cfg.rtcMinPort,
    rtcMaxPort: cfg.rtcMaxPort,
    logger: log,
  });
  const rooms = new RoomRegistry(
    pool,
    { listenIp: cfg.rtcListenIp, announcedIp: cfg.rtcAnnouncedIp, keyFrameEveryMs: limits.requests.keyFrameEveryMs },
    log,
  );
  const stores = openStores(path.resolve(cfg.dataDir, 'confide.sqlite'), opts.passwordHasher ? { passwordHasher: opts.passwordHasher } : {});
  const consultations = new Consultations(stores, rooms, log, limits.requests.waitingRoomEntries);
  const http = await createHttpApp({
    clientDir: opts.clientDir ?? path.join(root, 'dist', 'client'),
    logger: log,
    trustProxy: cfg.trustProxy,
    hsts: cfg.cookieSecure,
    limits: limits.http,
    api: (app) =>
      registerApi(app, {
        stores,
        cookieSecure: cfg.cookieSecure,
        allowedOrigins: cfg.allowedOrigins,
        linkReplaced: (id) => consultations.dropWaiting(id),
        live: (id) => consultations.live(id),
        endConsultation: (id, actor) => {
          consultations.end(id, actor).catch((err: unknown) => log.error({ err: String(err) }, 'end failed'));
        },
      }),
  });
  const signalling = attachSignalling(
    http.server,
    { rooms, consultations, log, sessions: stores.sessions, ...(opts.tamper ? { tamper: opts.tamper } : {}) },
    { graceMs: cfg.graceMs, limits, trust: trustFn(cfg.trustProxy), allowedOrigins: cfg.allowedOrigins },
  );
  const io = signalling.io;
  await http.listen({ host: cfg.host, port: cfg.port });
  const { port } = http.server.address() as AddressInfo;
  const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;

  return {
    url: `http://${host}:${port}`,
    httpServer: http.server,
    rooms,
    pool,
    held: signalling.held,
    stores,
    consultations,
    io,
    log,
    async close() {
      signalling.close();
      await rooms.closeAll();
      await http.close();
      pool.close();
      stores.db.close();
    },
  };
}
