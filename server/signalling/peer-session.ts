// One participant's view of the protocol: validates every request against
// the shared schema, runs it against the room and answers an Ack envelope.
// Requests run one at a time, in arrival order.
//
// A PeerSession outlives a dropped socket: when the connection drops for a
// reason that may heal (transport closed, ping timeout), the participant is
// held (HeldSessions) and marked reconnecting in its room; a connection that
// socket.io recovers within the grace period is attached back to it, and
// notifications sent meanwhile reach it (they go out on the old socket,
// which socket.io's recovery buffers and replays).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { z } from 'zod';
import {
  requests,
  type Ack,
  type LeaveReason,
  type RequestName,
  type RequestOf,
  type ResponseOf,
} from '../../shared/protocol/signalling.ts';
import type { Room } from '../rooms/room.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import type { Notify } from '../rooms/peer.ts';
import type { Consultations } from '../consultations/consultations.ts';
import type { User } from '../store/users.ts';
import { SignallingError } from './errors.ts';
import { TokenBucket } from '../../shared/util/token-bucket.ts';
import type { HeldSessions } from './held-sessions.ts';

/**
 * Test-only: lets a test play a malicious relay by rewriting (or dropping,
 * with undefined) what the server sends to `to`. Only settable in code
 * (startConfide options), never from configuration.
 */
export type RelayTamper = (event: string, to: string, data: unknown) => unknown;

export interface SignallingDeps {
  rooms: RoomRegistry;
  consultations: Consultations;
  log: Logger;
  /** Where dropped participants wait for their connection to come back. */
  held: HeldSessions<PeerSession>;
  tamper?: RelayTamper;
}

/**
 * socket.io disconnect reasons after which the same client may come back
 * (socket.io's own RECOVERABLE_DISCONNECT_REASONS, minus server shutdown,
 * after which in-memory state is gone anyway).
 */
const RECOVERABLE = new Set(['transport error', 'transport close', 'forced close', 'ping timeout']);

type Handler<N extends RequestName> = (req: RequestOf<N>) => Promise<ResponseOf<N>> | ResponseOf<N>;

export class PeerSession {
  readonly peerId = randomUUID();
  private room: Room | undefined;
  private waiting = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly bucket = new TokenBucket(100, 50);
  private readonly log: Logger;
  private readonly rooms: RoomRegistry;
  private readonly consultations: Consultations;
  private readonly held: HeldSessions<PeerSession>;
  private readonly notify: Notify;

  /** `user`: the signed-in staff member (from the session cookie), if any. */
  constructor(
    private socket: Socket,
    deps: SignallingDeps,
    private readonly user: User | undefined,
  ) {
    this.rooms = deps.rooms;
    this.consultations = deps.consultations;
    this.held = deps.held;
    this.log = deps.log.child({ peerId: this.peerId });
    const tamper = deps.tamper;
    // Always the latest socket: while dropped, the old one buffers for recovery.
    this.notify = (event, data) => {
      const out = tamper ? tamper(event, this.peerId, data) : data;
      if (out !== undefined) this.socket.emit(event, out);
    };
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Is there anything to hold for this connection (a room, or a place in the waiting room)? */
  get holdsAPlace(): boolean {
    return this.room !== undefined || this.waiting;
  }

  /**
   * The socket went away. Holds the participant for the grace period when
   * the reason may heal and it holds a place; otherwise leaves at once.
   */
  detached(reason: string): void {
    if (this.held.closed) {
      // Server shutdown: nobody left; they will rejoin the restarted server.
      const room = this.room;
      if (room) this.consultations.connection(room.id, 'connection_lost', this.actor());
      return;
    }
    if (RECOVERABLE.has(reason) && this.holdsAPlace) {
      this.held.hold(this.socket.id, this);
      this.queue = this.queue.then(() => {
        const room = this.room;
        if (!room) return;
        room.setReconnecting(this.peerId, true);
        this.consultations.connection(room.id, 'connection_lost', this.actor());
      });
      return;
    }
    this.queue = this.queue.then(() => this.leaveRoom('left'));
  }

  /** socket.io recovered our connection within the grace period: carry on with the new socket. */
  attach(socket: Socket): void {
    this.socket = socket;
    this.queue = this.queue.then(() => {
      const room = this.room;
      if (!room) return;
      room.setReconnecting(this.peerId, false);
      this.consultations.connection(room.id, 'reconnected', this.actor());
    });
  }

  /** The grace period ran out (HeldSessions). */
  expire(): void {
    this.queue = this.queue.then(() => {
      const room = this.room;
      if (room) this.consultations.connection(room.id, 'timed_out', this.actor());
      this.leaveRoom('timeout');
    });
  }

  /** Keeps socket.io's recovery offset fresh on quiet connections (see socket-server.ts). */
  heartbeat(): void {
    if (this.holdsAPlace && this.socket.connected) this.notify('heartbeat', {});
  }

  /** Entry point for every client event; never throws. */
  handle(name: string, args: unknown[]): void {
    const ack = args.length > 0 ? args[args.length - 1] : undefined;
    if (typeof ack !== 'function') {
      this.log.debug({ event: name }, 'request without ack ignored');
      return;
    }
    const reply = (a: Ack<unknown>) => (ack as (a: Ack<unknown>) => void)(a);
    if (!Object.hasOwn(requests, name)) {
      reply(failure('unknown-request', `unknown request "${String(name).slice(0, 64)}"`));
      return;
    }
    if (!this.bucket.take()) {
      reply(failure('rate-limited', 'too many requests'));
      return;
    }
    const requestName = name as RequestName;
    const parsed = requests[requestName].req.safeParse(args.length > 1 ? args[0] : undefined);
    if (!parsed.success) {
      reply(failure('bad-request', describe(parsed.error)));
      return;
    }
    this.queue = this.queue.then(() => this.run(requestName, parsed.data, reply));
  }

  private async run(name: RequestName, payload: unknown, reply: (a: Ack<unknown>) => void): Promise<void> {
    try {
      const handler = this.handlers[name] as Handler<RequestName>;
      const data = await handler(payload as never);
      reply({ ok: true, data });
    } catch (err) {
      if (err instanceof SignallingError) {
        reply(failure(err.code, err.message));
      } else {
        this.log.error({ event: name, err: err instanceof Error ? err.message : String(err) }, 'request failed');
        reply(failure('internal', 'internal error'));
      }
    }
  }

  private joined(): Room {
    if (!this.room || !this.room.has(this.peerId)) throw new SignallingError('not-joined', 'join a room first');
    return this.room;
  }

  private leaveRoom(reason: LeaveReason): void {
    this.waiting = false;
    this.consultations.leaveWaitingRoom(this.peerId);
    const room = this.room;
    if (!room) return;
    this.room = undefined;
    if (!room.has(this.peerId)) return; // replaced by the same participant's newer connection
    room.leave(this.peerId, reason);
    this.consultations.left(room.id, this.actor());
  }

  private actor(): string {
    return this.user ? `${this.user.role}:${this.user.id}` : 'patient';
  }

  /** The signed-in doctor of the room this socket joined. */
  private doctorInRoom(): { doctor: User; room: Room } {
    const room = this.joined();
    if (!this.user || this.user.role !== 'doctor' || room.roleOf(this.peerId) !== 'doctor') {
      throw new SignallingError('forbidden', 'only the consultation’s doctor can do this');
    }
    return { doctor: this.user, room };
  }

  private readonly handlers: { [N in RequestName]: Handler<N> } = {
    enterWaitingRoom: ({ consultationId, token, displayName }) => {
      if (this.room) throw new SignallingError('already-joined', 'already in the call');
      const c = this.consultations.enterWaitingRoom(this.peerId, consultationId, token, displayName, this.notify);
      this.waiting = true;
      return { patientName: c.patientName };
    },
    admit: ({ requestId, as }) => {
      const { doctor, room } = this.doctorInRoom();
      this.consultations.admit(doctor, room.id, requestId, as);
      return {};
    },
    decline: ({ requestId }) => {
      const { doctor, room } = this.doctorInRoom();
      this.consultations.decline(doctor, room.id, requestId);
      return {};
    },
    endConsultation: async () => {
      const { doctor, room } = this.doctorInRoom();
      await this.consultations.endAsDoctor(doctor, room.id);
      this.room = undefined;
      return {};
    },
    join: async ({ roomId, rejoinToken }) => {
      if (this.room) throw new SignallingError('already-joined', 'already in a room');
      const grant = this.consultations.authorizeJoin(this.user, this.peerId, roomId, rejoinToken);
      let room = await this.rooms.getOrCreate(roomId);
      // The room may have just closed (its last peer left): take the new one.
      if (room.isClosed) room = await this.rooms.getOrCreate(roomId);
      const res = room.join({
        peerId: this.peerId,
        participantId: grant.participantId,
        displayName: grant.name,
        role: grant.role,
        notify: this.notify,
      });
      this.room = room;
      this.waiting = false;
      const issued = this.consultations.joined(roomId, grant, this.actor());
      const linksExpireAt = this.consultations.linksExpireAt(roomId);
      return {
        ...(linksExpireAt === undefined ? {} : { linksExpireAt }),
        ...res,
        waiting: grant.role === 'doctor' ? this.consultations.waitingList(roomId) : [],
        ...(issued ? { rejoinToken: issued } : {}),
      };
    },
    createTransport: (req) => this.joined().createTransport(this.peerId, req),
    connectTransport: async (req) => {
      await this.joined().connectTransport(this.peerId, req);
      return {};
    },
    produce: (req) => this.joined().produce(this.peerId, req),
    closeProducer: (req) => {
      this.joined().closeProducer(this.peerId, req);
      return {};
    },
    consume: (req) => this.joined().consume(this.peerId, req),
    resumeConsumer: async (req) => {
      await this.joined().resumeConsumer(this.peerId, req);
      return {};
    },
    requestKeyFrame: async (req) => {
      await this.joined().requestKeyFrame(this.peerId, req);
      return {};
    },
    keyCommit: (req) => {
      this.joined().keyCommit(this.peerId, req);
      return {};
    },
    keyReveal: (req) => {
      this.joined().keyReveal(this.peerId, req);
      return {};
    },
    sendKey: (req) => {
      this.joined().sendKey(this.peerId, req);
      return {};
    },
    chatChunk: (req) => {
      this.joined().relayChat(this.peerId, req);
      return {};
    },
    leave: () => {
      this.joined();
      this.leaveRoom('left');
      return {};
    },
    resume: () => {
      const joined = this.room !== undefined && this.room.has(this.peerId);
      return joined ? { joined, peerId: this.peerId } : { joined };
    },
    restartIce: (req) => this.joined().restartIce(this.peerId, req),
    rejoinMedia: () => this.joined().rejoinMedia(this.peerId),
    pauseProducer: async (req) => {
      await this.joined().pauseProducer(this.peerId, req);
      return {};
    },
  };
}

function failure(code: Extract<Ack<never>, { ok: false }>['error']['code'], message: string): Ack<never> {
  return { ok: false, error: { code, message } };
}

function describe(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'invalid payload';
  const where = first.path.length ? first.path.join('.') : 'payload';
  return `invalid ${where}: ${first.message}`.slice(0, 300);
}
