// socket.io signalling: one PeerSession per connection.
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { MAX_MESSAGE_BYTES } from '../../shared/protocol/signalling.ts';
import { PeerSession, type SignallingDeps } from './peer-session.ts';
import type { User } from '../store/users.ts';

/**
 * `resolveUser` maps the handshake's Cookie header to a signed-in staff
 * member; patients have no account and prove access with their link's token.
 */
export function attachSignalling(
  http: HttpServer,
  deps: SignallingDeps,
  resolveUser: (cookieHeader: string | undefined) => User | undefined,
): Server {
  const io = new Server(http, {
    path: '/socket.io',
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
    serveClient: false,
    // Same-origin only: the client is served by this server.
    cors: undefined,
  });
  io.on('connection', (socket) => {
    const session = new PeerSession(socket, deps, resolveUser(socket.request.headers.cookie));
    // onAny sees every event, known or not, so unknown names get an error ack too.
    socket.onAny((event: unknown, ...args: unknown[]) => session.handle(String(event), args));
    socket.on('disconnect', () => session.disconnect());
  });
  return io;
}
