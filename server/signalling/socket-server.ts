// socket.io signalling: one PeerSession per participant connection, which a
// connection recovered by socket.io binds back to (see held-sessions.ts).
//
// Who may connect, and for how long (issue 12): a browser's handshake must
// come from an allowed origin (origin-policy.ts: no WebSocket from another
// port of the host riding the doctor's cookie); each client address holds at
// most limits.sockets.perIp connections and the server limits.sockets.total;
// a staff account at most limits.sockets.perAccount; a connection that takes
// no place in time is closed (PeerSession). A staff session that is revoked
// (logout, account disabled or reset) closes that session's or account's
// connections at once, held ones included; one that expires, within a
// heartbeat. socket.io's recovery buffer is bounded (recovery-adapter.ts).
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { MAX_MESSAGE_BYTES } from '../../shared/protocol/signalling.ts';
import { PeerSession, type SignallingDeps, type StaffSession } from './peer-session.ts';
import { HeldSessions } from './held-sessions.ts';
import { SharedBudgets } from './rate-limits.ts';
import { boundedRecoveryAdapter } from './recovery-adapter.ts';
import type { Limits } from '../limits.ts';
import { clientIp, type TrustFn } from '../http/client-ip.ts';
import { originAllowed, type AllowedOrigins } from '../http/origin-policy.ts';
import { readSessionToken } from '../auth/session-cookie.ts';
import type { Revocation } from '../store/sessions.ts';

export interface SignallingOptions {
  /** How long a dropped participant keeps its place in the room (ms). */
  graceMs: number;
  /** Interval of the heartbeat notification on quiet connections (ms); also how often expired sessions are swept. */
  heartbeatMs?: number;
  limits: Limits;
  /** Which X-Forwarded-For entries to believe (client addresses for the caps). */
  trust: TrustFn;
  /** Origins whose pages may open a connection; undefined: the handshake's own Host. */
  allowedOrigins: AllowedOrigins;
  /**
   * socket.io's adapter: several nodes pass the Redis Streams one
   * (server/cluster/socket-adapter.ts), which keeps recovery across nodes;
   * default, one node: the in-memory adapter with a bounded recovery buffer.
   */
  adapter?: ServerOptions['adapter'];
}

export interface Signalling {
  io: Server;
  held: HeldSessions<PeerSession>;
  /** Ends the connections of a revoked staff session or account (several nodes: another node's revocation). */
  revoke(r: Revocation): void;
  /**
   * Several nodes: closes the connections in `consultationId`'s room and
   * waiting room here, whose entry another node took over; their clients
   * reconnect, rejoin from home and are redirected to the new owner.
   */
  evict(consultationId: string): void;
  close(): void;
}

/** The address an accepted handshake was counted under (engine.io hands us the same request object). */
const COUNTED = Symbol('confide counted address');
type Counted = IncomingMessage & { [COUNTED]?: string };

/**
 * Attaches socket.io to `http`. Staff connections are recognised by the
 * handshake's session cookie (deps.sessions), or on several nodes by a staff
 * ticket in the handshake's `auth` (deps.tickets); patients have no account
 * and prove access with their link's token.
 */
export function attachSignalling(
  http: HttpServer,
  deps: Omit<SignallingDeps, 'held' | 'budgets' | 'limits'>,
  opts: SignallingOptions,
): Signalling {
  const { limits } = opts;
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  const perIp = new Map<string, number>();
  let total = 0;
  const release = (req: Counted) => {
    const ip = req[COUNTED];
    if (ip === undefined) return;
    delete req[COUNTED];
    total--;
    const n = (perIp.get(ip) ?? 1) - 1;
    if (n > 0) perIp.set(ip, n);
    else perIp.delete(ip);
  };

  const io = new Server(http, {
    path: '/socket.io',
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
    serveClient: false,
    // Same-origin only: the client is served by this server (and allowRequest checks Origin).
    cors: undefined,
    // A silent dead link (Wi-Fi → 4G) is noticed within 15 s by both ends.
    pingInterval: 10_000,
    pingTimeout: 5_000,
    connectionStateRecovery: {
      // socket.io restores a session only if the client's last packet is still
      // buffered: keep packets a heartbeat longer than the grace period, twice.
      maxDisconnectionDuration: opts.graceMs + 2 * heartbeatMs,
      skipMiddlewares: true,
    },
    adapter: opts.adapter ?? boundedRecoveryAdapter(limits.recoveryBufferBytes),
    // Runs for every new engine.io connection (not for packets of an open one).
    allowRequest: (req, callback) => {
      if (!originAllowed(req.headers, opts.allowedOrigins)) return callback('origin not allowed', false);
      const ip = clientIp(req, opts.trust);
      if (total >= limits.sockets.total || (perIp.get(ip) ?? 0) >= limits.sockets.perIp) {
        return callback('too many connections', false);
      }
      // Counted now, so a burst of handshakes cannot all pass before the first completes.
      (req as Counted)[COUNTED] = ip;
      total++;
      perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
      callback(null, true);
    },
  });
  io.engine.on('connection', (raw: { request: Counted; once(event: 'close', l: () => void): void }) => {
    raw.once('close', () => release(raw.request));
  });
  io.engine.on('connection_error', (err: { req: Counted }) => release(err.req));

  const held = new HeldSessions<PeerSession>(opts.graceMs);
  const budgets = new SharedBudgets(limits.requests.perPrincipal.burst, limits.requests.perPrincipal.perSecond);
  const full: SignallingDeps = { ...deps, held, budgets, limits };
  const sessions = new Set<PeerSession>();
  /** The handshake's staff session: its cookie's, or (several nodes, after a redirect) the one its ticket stands for. */
  const staffSession = async (socket: Socket): Promise<StaffSession | undefined> => {
    const token = readSessionToken(socket.request.headers.cookie);
    let s = token ? await deps.sessions.resolveSession(token) : undefined;
    if (!s && deps.tickets) {
      const auth: unknown = socket.handshake.auth;
      const ticket = typeof auth === 'object' && auth !== null ? (auth as { ticket?: unknown }).ticket : undefined;
      const tokenHash = ticket === undefined ? undefined : await deps.tickets.redeem(ticket);
      s = tokenHash ? await deps.sessions.resolveSessionByHash(tokenHash) : undefined;
    }
    return s ? { tokenHash: s.tokenHash, user: s.user, expiresAt: s.expiresAt } : undefined;
  };
  const openFor = (userId: string) => [...sessions].filter((s) => s.guard.user?.id === userId && s.connected).length;

  /** The connection's PeerSession: the one held for it (recovered), or a new one once its cookie's session is read (undefined: refused). */
  const sessionFor = async (socket: Socket): Promise<PeerSession | undefined> => {
    const recovered = socket.recovered ? held.take(socket.id) : undefined;
    if (recovered) {
      recovered.attach(socket);
      sessions.add(recovered);
      return recovered;
    }
    const staff = await staffSession(socket);
    if (!socket.connected) return undefined;
    if (staff && openFor(staff.user.id) >= limits.sockets.perAccount) {
      deps.log.warn({ userId: staff.user.id }, 'too many connections for one account');
      socket.disconnect(true);
      return undefined;
    }
    const s = new PeerSession(socket, full, staff, clientIp(socket.request, opts.trust));
    sessions.add(s);
    return s;
  };

  io.on('connection', (socket) => {
    // Listeners go on at once (events that arrive while the session is read
    // wait for it, in order); the session comes from the store, asynchronously.
    const ready = sessionFor(socket).catch((err: unknown) => {
      deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'connection refused: session lookup failed');
      socket.disconnect(true);
      return undefined;
    });
    // onAny sees every event, known or not, so unknown names get an error ack too.
    socket.onAny((event: unknown, ...args: unknown[]) => void ready.then((s) => s?.handle(String(event), args)));
    socket.on('disconnect', (reason) =>
      void ready.then((s) => {
        if (!s) return;
        s.detached(reason);
        if (!s.holdsAPlace) sessions.delete(s);
      }),
    );
  });

  // Logout, a disabled account, a reset: their connections end now, held ones too.
  const endWhere = (matches: (s: PeerSession) => boolean, reason: string) => {
    for (const s of [...sessions]) {
      if (!matches(s)) continue;
      s.revoke(reason);
      sessions.delete(s);
    }
  };
  const revoke = (r: Revocation) =>
    r.kind === 'user'
      ? endWhere((s) => s.guard.user?.id === r.userId, 'account signed out everywhere')
      : endWhere((s) => s.guard.sessionHash === r.tokenHash, 'session ended');
  const unsubscribe = deps.sessions.onRevoked(revoke);
  // Several nodes: the room was taken over by another node (this one was frozen or cut off from Redis).
  const evict = (consultationId: string) => endWhere((s) => s.consultationId === consultationId, 'the room moved to another node');

  const timer = setInterval(() => {
    const now = Date.now();
    for (const s of sessions) {
      // An expired staff session: its connections go (each request also re-checks it).
      const expiresAt = s.guard.expiresAt;
      if (expiresAt !== undefined && expiresAt <= now) {
        s.revoke('session expired');
        sessions.delete(s);
      } else if (s.holdsAPlace) s.heartbeat();
      else if (!s.connected) sessions.delete(s);
    }
  }, heartbeatMs);
  timer.unref();
  return {
    io,
    held,
    revoke,
    evict,
    close() {
      clearInterval(timer);
      unsubscribe();
      held.clear();
      io.close();
    },
  };
}
