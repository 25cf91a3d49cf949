// A socket.io client for integration tests; with `session`, signed in as that staff member.
import { io, type Socket } from 'socket.io-client';

export type AckShape = { ok: boolean; data?: unknown; error?: { code: string; message: string } };

export function connectSocket(url: string, session?: string): Promise<Socket> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(session ? { extraHeaders: { cookie: `confide_session=${session}` } } : {}),
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

export function send(socket: Socket, event: string, ...args: unknown[]): Promise<AckShape> {
  return socket.timeout(5000).emitWithAck(event, ...args) as Promise<AckShape>;
}
