// socket.io signalling: one PeerSession per connection.
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import { MAX_MESSAGE_BYTES } from '../../shared/protocol/signalling.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import { PeerSession, type RelayTamper } from './peer-session.ts';

export function attachSignalling(http: HttpServer, rooms: RoomRegistry, log: Logger, tamper?: RelayTamper): Server {
  const io = new Server(http, {
    path: '/socket.io',
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
    serveClient: false,
    // Same-origin only: the client is served by this server.
    cors: undefined,
  });
  io.on('connection', (socket) => {
    const session = new PeerSession(socket, rooms, log, tamper);
    // onAny sees every event, known or not, so unknown names get an error ack too.
    socket.onAny((event: unknown, ...args: unknown[]) => session.handle(String(event), args));
    socket.on('disconnect', () => session.disconnect());
  });
  return io;
}
