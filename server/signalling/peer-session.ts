// One socket's view of the protocol: validates every request against the
// shared schema, runs it against the room and answers an Ack envelope.
// Requests of one socket run one at a time, in arrival order.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { z } from 'zod';
import {
  requests,
  type Ack,
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
  tamper?: RelayTamper;
}

type Handler<N extends RequestName> = (req: RequestOf<N>) => Promise<ResponseOf<N>> | ResponseOf<N>;

export class PeerSession {
  readonly peerId = randomUUID();
  private room: Room | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly bucket = new TokenBucket(100, 50);
  private readonly log: Logger;
  private readonly rooms: RoomRegistry;
  private readonly consultations: Consultations;
  private readonly notify: Notify;

  /** `user`: the signed-in staff member (from the session cookie), if any. */
  constructor(
    socket: Socket,
    deps: SignallingDeps,
    private readonly user: User | undefined,
  ) {
    this.rooms = deps.rooms;
    this.consultations = deps.consultations;
    this.log = deps.log.child({ peerId: this.peerId });
    const tamper = deps.tamper;
    this.notify = (event, data) => {
      const out = tamper ? tamper(event, this.peerId, data) : data;
      if (out !== undefined) socket.emit(event, out);
    };
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

  /** Called when the socket goes away. */
  disconnect(): void {
    this.queue = this.queue.then(() => this.leaveRoom());
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
    if (!this.room) throw new SignallingError('not-joined', 'join a room first');
    return this.room;
  }

  private leaveRoom(): void {
    this.consultations.leaveWaitingRoom(this.peerId);
    const room = this.room;
    if (!room) return;
    this.room = undefined;
    room.leave(this.peerId);
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
      return { patientName: c.patientName };
    },
    admit: ({ requestId }) => {
      const { doctor, room } = this.doctorInRoom();
      this.consultations.admit(doctor, room.id, requestId);
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
    join: async ({ roomId }) => {
      if (this.room) throw new SignallingError('already-joined', 'already in a room');
      const who = this.consultations.authorizeJoin(this.user, this.peerId, roomId);
      let room = await this.rooms.getOrCreate(roomId);
      // The room may have just closed (its last peer left): take the new one.
      if (room.isClosed) room = await this.rooms.getOrCreate(roomId);
      const res = room.join(this.peerId, who.name, who.role, this.notify);
      this.room = room;
      this.consultations.joined(roomId, who.role, this.actor());
      return { ...res, waiting: who.role === 'doctor' ? this.consultations.waitingList(roomId) : [] };
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
    announceKey: (req) => {
      this.joined().announceKey(this.peerId, req);
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
      this.leaveRoom();
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
