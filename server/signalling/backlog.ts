// How much a signalling connection has not yet written to its client (bytes):
// engine.io's write buffer (packets waiting while the transport is busy) plus
// the WebSocket's own (`bufferedAmount`: handed to ws, not yet to the kernel).
// A client that stops reading makes this grow; the chat relay checks it.
import type { Socket } from 'socket.io';
import { approxBytes } from './recovery-adapter.ts';

interface EngineInternals {
  writeBuffer?: { data?: unknown }[];
  transport?: { socket?: { bufferedAmount?: number } };
}

export function pendingBytes(socket: Socket): number {
  const conn = socket.conn as unknown as EngineInternals;
  let n = conn.transport?.socket?.bufferedAmount ?? 0;
  for (const p of conn.writeBuffer ?? []) n += approxBytes(p.data);
  return n;
}
