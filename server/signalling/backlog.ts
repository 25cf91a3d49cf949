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

/**
 * Cuts a connection that stopped reading, the way a network failure would
 * (socket.io reason 'transport close': recoverable, the participant is held).
 * engine.io's own close() waits for the write buffer to drain, which a
 * stalled client never does: the WebSocket is terminated instead.
 */
export function cutConnection(socket: Socket): void {
  const conn = socket.conn as unknown as { transport?: { socket?: { terminate?: () => void } }; close(): void };
  const ws = conn.transport?.socket;
  if (typeof ws?.terminate === 'function') ws.terminate();
  else conn.close();
}
