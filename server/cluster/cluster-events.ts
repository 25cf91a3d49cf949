// What the nodes of a cluster tell each other (issue 16), over socket.io's
// server-side emits, which the Redis Streams adapter carries to every other
// node. A staff action handled by one node (the load balancer sent the
// request anywhere) must reach the node that hosts the room:
// - `confide:ended`: a consultation ended: close its room and tell waiting patients;
// - `confide:waiting-dropped`: its patient link was replaced: turn away who waits with the old one;
// - `confide:revoked`: a staff session (or every session of an account) ended: cut its connections;
// - `confide:live`: each node's live rooms, every LIVE_EVERY_MS, so the clinic
//   console on any node shows every consultation live (LiveBoard).
// Everything read is validated: Redis is shared, and a malformed event is dropped.
import type { Server } from 'socket.io';
import { z } from 'zod';
import { RoomId } from '../../shared/protocol/signalling.ts';
import { LiveStatus } from '../../shared/protocol/staff-schemas.ts';
import type { Revocation } from '../store/sessions.ts';

/** How often a node publishes its live rooms (ms); the console polls every 3–5 s. */
export const LIVE_EVERY_MS = 1_000;
/** A node's published status is trusted this long (ms): a dead node's rooms stop showing live. */
export const LIVE_TTL_MS = 3 * LIVE_EVERY_MS + 500;
/** At most this many rooms per live message (a node hosts far fewer). */
const MAX_LIVE = 5_000;

const ConsultationEvent = z.object({ consultationId: RoomId }).strict();
const RevocationEvent = z.union([
  z.object({ kind: z.literal('session'), tokenHash: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
  z.object({ kind: z.literal('user'), userId: z.string().min(1).max(64) }).strict(),
]);
const LiveEvent = z.object({ rooms: z.array(z.tuple([RoomId, LiveStatus])).max(MAX_LIVE) }).strict();

/** What this node does when another node says so. */
export interface ClusterEventHandlers {
  ended(consultationId: string): void;
  waitingDropped(consultationId: string): void;
  revoked(r: Revocation): void;
}

/** The statuses other nodes published, each kept LIVE_TTL_MS after its last message. */
export class LiveBoard {
  private readonly remote = new Map<string, { status: LiveStatus; at: number }>();

  /** The status another node published for `consultationId` within LIVE_TTL_MS, if any. */
  get(consultationId: string, now = Date.now()): LiveStatus | undefined {
    const e = this.remote.get(consultationId);
    if (!e) return undefined;
    if (now - e.at > LIVE_TTL_MS) {
      this.remote.delete(consultationId);
      return undefined;
    }
    return e.status;
  }

  /** Records another node's rooms (`at`: when received, ms since the epoch); forgets expired ones. */
  put(rooms: readonly [string, LiveStatus][], at = Date.now()): void {
    for (const [id, status] of rooms) this.remote.set(id, { status, at });
    if (this.remote.size > 4 * MAX_LIVE) for (const id of [...this.remote.keys()]) this.get(id, at);
  }
}

/** The cross-node side of one node: emitters for the local actions, listeners for the others'. */
export interface ClusterEvents {
  readonly board: LiveBoard;
  ended(consultationId: string): void;
  waitingDropped(consultationId: string): void;
  revoked(r: Revocation): void;
  /** Stops publishing live rooms. */
  close(): void;
}

/**
 * Wires `io` (on the Redis Streams adapter) for cross-node events: publishes
 * `liveRooms()` every LIVE_EVERY_MS and calls `on` for the other nodes' events.
 */
export function clusterEvents(io: Server, on: ClusterEventHandlers, liveRooms: () => [string, LiveStatus][]): ClusterEvents {
  const board = new LiveBoard();
  const listen = <T>(name: string, schema: z.ZodType<T>, run: (v: T) => void) =>
    io.on(name as 'connection', ((raw: unknown) => {
      const v = schema.safeParse(raw);
      if (v.success) run(v.data);
    }) as never);
  listen('confide:ended', ConsultationEvent, (e) => on.ended(e.consultationId));
  listen('confide:waiting-dropped', ConsultationEvent, (e) => on.waitingDropped(e.consultationId));
  listen('confide:revoked', RevocationEvent, (r) => on.revoked(r));
  listen('confide:live', LiveEvent, (e) => board.put(e.rooms));
  const timer = setInterval(() => {
    const rooms = liveRooms().slice(0, MAX_LIVE);
    if (rooms.length) io.serverSideEmit('confide:live', { rooms });
  }, LIVE_EVERY_MS);
  timer.unref();
  return {
    board,
    ended: (consultationId) => void io.serverSideEmit('confide:ended', { consultationId }),
    waitingDropped: (consultationId) => void io.serverSideEmit('confide:waiting-dropped', { consultationId }),
    revoked: (r) => void io.serverSideEmit('confide:revoked', r),
    close: () => clearInterval(timer),
  };
}
