// socket.io signalling: one PeerSession per participant connection, which a
// connection recovered by socket.io binds back to (see held-sessions.ts).
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { MAX_MESSAGE_BYTES } from '../../shared/protocol/signalling.ts';
import { PeerSession, type SignallingDeps } from './peer-session.ts';
import { HeldSessions } from './held-sessions.ts';
import type { User } from '../store/users.ts';

export interface SignallingOptions {
  /** How long a dropped participant keeps its place in the room (ms). */
  graceMs: number;
  /** Interval of the heartbeat notification on quiet connections (ms). */
  heartbeatMs?: number;
}

export interface Signalling {
  io: Server;
  held: HeldSessions<PeerSession>;
  close(): void;
}

/**
 * `resolveUser` maps the handshake's Cookie header to a signed-in staff
 * member; patients have no account and prove access with their link's token.
 */
export function attachSignalling(
  http: HttpServer,
  deps: Omit<SignallingDeps, 'held'>,
  resolveUser: (cookieHeader: string | undefined) => User | undefined,
  opts: SignallingOptions,
): Signalling {
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  const io = new Server(http, {
    path: '/socket.io',
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
    serveClient: false,
    // Same-origin only: the client is served by this server.
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
  });
  const held = new HeldSessions<PeerSession>(opts.graceMs);
  const sessions = new Set<PeerSession>();
  io.on('connection', (socket) => {
    const recovered = socket.recovered ? held.take(socket.id) : undefined;
    const session = recovered ?? new PeerSession(socket, { ...deps, held }, resolveUser(socket.request.headers.cookie));
    if (recovered) recovered.attach(socket);
    sessions.add(session);
    // onAny sees every event, known or not, so unknown names get an error ack too.
    socket.onAny((event: unknown, ...args: unknown[]) => session.handle(String(event), args));
    socket.on('disconnect', (reason) => {
      session.detached(reason);
      if (!session.holdsAPlace) sessions.delete(session);
    });
  });
  const timer = setInterval(() => {
    for (const s of sessions) {
      if (s.holdsAPlace) s.heartbeat();
      else if (!s.connected) sessions.delete(s);
    }
  }, heartbeatMs);
  timer.unref();
  return {
    io,
    held,
    close() {
      clearInterval(timer);
      held.clear();
      io.close();
    },
  };
}
