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
//
// Authority is checked on every request, not once at the handshake (issue 12,
// item 2): a staff connection re-reads its session each time, and ends (with
// its place in the call) the moment the session is revoked, the account
// disabled or reset, or the session expires (socket-server.ts listens for
// those). Every event, known or not, is counted against the connection's
// budget and a budget shared by the whole account (or the consultation's
// waiting room, or one patient's place in the call, or the address); a
// connection that holds no place — never had one, or was turned away — is
// closed after a while (limits.ts).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import {
  requests,
  type Ack,
  type LeaveReason,
  type RequestName,
  type RequestOf,
  type ResponseOf,
} from '../../shared/protocol/signalling.ts';
import { CHECK_MS, type Room } from '../rooms/room.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import type { Notify } from '../rooms/peer.ts';
import type { Consultations } from '../consultations/consultations.ts';
import type { User } from '../store/users.ts';
import { describeIssue, failure, SignallingError } from './errors.ts';
import type { HeldSessions } from './held-sessions.ts';
import { cutConnection, pendingBytes } from './backlog.ts';
import { ConnectionGuard, ReceiverHealth, type StaffSession } from './connection-guard.ts';
import { RECOVERABLE, type SignallingDeps } from './signalling-deps.ts';
import { roomRequests } from './room-requests.ts';

export type { RelayTamper, SignallingDeps } from './signalling-deps.ts';
export type { StaffSession };

type Handler<N extends RequestName> = (req: RequestOf<N>) => Promise<ResponseOf<N>> | ResponseOf<N>;

export class PeerSession {
  readonly peerId = randomUUID();
  private room: Room | undefined;
  private waiting = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Its staff session (re-read on every request) and request budgets; socket-server.ts matches revocations on it. */
  readonly guard: ConnectionGuard;
  private readonly health: ReceiverHealth;
  private readonly log: Logger;
  private readonly rooms: RoomRegistry;
  private readonly consultations: Consultations;
  private readonly held: HeldSessions<PeerSession>;
  private readonly deps: SignallingDeps;
  private readonly notify: Notify;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set once the connection lost its authority or was told to go: nothing more runs. */
  private ended = false;

  /**
   * `staff`: the signed-in staff member's session (from the handshake's
   * cookie), if any; `ip`: the client's address (shared budget before it is
   * anyone).
   */
  constructor(
    private socket: Socket,
    deps: SignallingDeps,
    staff: StaffSession | undefined,
    ip: string,
  ) {
    this.deps = deps;
    this.rooms = deps.rooms;
    this.consultations = deps.consultations;
    this.held = deps.held;
    this.guard = new ConnectionGuard(staff, ip, deps.sessions, deps.budgets, deps.limits);
    this.health = new ReceiverHealth(deps.limits.chat);
    this.log = deps.log.child({ peerId: this.peerId });
    const tamper = deps.tamper;
    // Always the latest socket: while dropped, the old one buffers for recovery.
    this.notify = (event, data) => {
      if (this.ended && event !== 'consultationEnded') return;
      const out = tamper ? tamper(event, this.peerId, data) : data;
      if (out !== undefined) this.socket.emit(event, out);
    };
    this.armIdle();
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** The consultation whose room (or waiting room) this connection is in, if any. */
  get consultationId(): string | undefined {
    return this.room?.id ?? this.consultations.waitingConsultation(this.peerId);
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
    clearTimeout(this.idleTimer);
    if (this.ended) return; // revoked: already leaving, never held
    if (this.held.closed) {
      // Server shutdown: nobody left; they will rejoin the restarted server.
      const room = this.room;
      if (room) this.queue = this.queue.then(() => this.consultations.connection(room.id, 'connection_lost', this.actor())).catch(this.storeFailed);
      return;
    }
    if (RECOVERABLE.has(reason) && this.holdsAPlace) {
      this.held.hold(this.socket.id, this);
      this.consultations.waitingConnection(this.peerId, false);
      this.queue = this.queue
        .then(() => {
          const room = this.room;
          if (!room) return;
          room.setReconnecting(this.peerId, true);
          return this.consultations.connection(room.id, 'connection_lost', this.actor());
        })
        .catch(this.storeFailed);
      return;
    }
    this.queue = this.queue.then(() => this.leaveRoom('left')).catch(this.storeFailed);
  }

  /** A store write behind a connection event failed: logged; the connection's queue goes on. */
  private readonly storeFailed = (err: unknown): void => {
    this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'store update failed');
  };

  /** socket.io recovered our connection within the grace period: carry on with the new socket. */
  attach(socket: Socket): void {
    this.socket = socket;
    if (this.ended) return;
    this.consultations.waitingConnection(this.peerId, true);
    this.queue = this.queue
      .then(async () => {
        // The session may have ended while the connection was down (then revoked: it leaves).
        if (!(await this.authorised())) return;
        const room = this.room;
        if (!room) return;
        room.setReconnecting(this.peerId, false);
        await this.consultations.connection(room.id, 'reconnected', this.actor());
      })
      .catch(this.storeFailed);
  }

  /** The grace period ran out (HeldSessions). */
  expire(): void {
    this.queue = this.queue
      .then(async () => {
        const room = this.room;
        if (room) await this.consultations.connection(room.id, 'timed_out', this.actor()).catch(this.storeFailed);
        await this.leaveRoom('timeout');
      })
      .catch(this.storeFailed);
  }

  /** Keeps socket.io's recovery offset fresh on quiet connections (see socket-server.ts). */
  heartbeat(): void {
    if (this.holdsAPlace && this.socket.connected) this.notify('heartbeat', {});
  }

  /**
   * The connection's authority is gone (its staff session was revoked or
   * expired, the account disabled or reset): it leaves the call and the
   * waiting room at once, is not held for reconnection, and is disconnected.
   */
  revoke(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.log.info({ reason }, 'connection revoked');
    clearTimeout(this.idleTimer);
    this.held.take(this.socket.id);
    this.queue = this.queue.then(() => this.leaveRoom('removed')).catch(this.storeFailed);
    // After the current tick, so the refusal of the request that found out is delivered first.
    const socket = this.socket;
    setImmediate(() => socket.connected && socket.disconnect(true));
  }

  /**
   * Whether the chat relay may send this connection another chunk: not while
   * more than limits.chat.receiverBacklogBytes wait to be written to it. One
   * too far behind, or skipped for too long, is disconnected (a transport
   * close: recoverable, it keeps its place for the grace period); its buffers
   * go, and the senders, told it was skipped, send what it missed again.
   */
  canTakeChat(): boolean {
    const backlog = this.socket.connected ? pendingBytes(this.socket) : 0;
    const skip = backlog > this.deps.limits.chat.receiverBacklogBytes;
    if (this.health.relayed(skip, backlog)) {
      this.log.warn({ backlog }, 'receiver too far behind: disconnected');
      cutConnection(this.socket);
    }
    return !skip;
  }

  /** Entry point for every client event; never throws. */
  handle(name: string, args: unknown[]): void {
    const ack = args.length > 0 ? args[args.length - 1] : undefined;
    // Every event counts against the budgets, known or not, with or without an ack.
    const allowed = this.guard.take();
    if (typeof ack !== 'function') {
      this.log.debug({ event: name }, 'request without ack ignored');
      return;
    }
    const reply = (a: Ack<unknown>) => (ack as (a: Ack<unknown>) => void)(a);
    if (!allowed) {
      reply(failure('rate-limited', 'too many requests'));
      return;
    }
    // In the queue: the session is re-read from the store (async), and answers keep their order.
    this.queue = this.queue.then(async () => {
      let authorised: boolean;
      try {
        authorised = !this.ended && (await this.authorised());
      } catch (err) {
        this.storeFailed(err);
        reply(failure('internal', 'internal error'));
        return;
      }
      if (!authorised) {
        reply(failure('unauthenticated', 'your session has ended: sign in again'));
        return;
      }
      if (!Object.hasOwn(requests, name)) {
        reply(failure('unknown-request', `unknown request "${String(name).slice(0, 64)}"`));
        return;
      }
      const requestName = name as RequestName;
      const parsed = requests[requestName].req.safeParse(args.length > 1 ? args[0] : undefined);
      if (!parsed.success) {
        reply(failure('bad-request', describeIssue(parsed.error)));
        return;
      }
      await this.run(requestName, parsed.data, reply);
    });
  }

  /** The staff session still holds (see ConnectionGuard); if not, the connection is revoked. */
  private async authorised(): Promise<boolean> {
    if (await this.guard.authorised()) return true;
    this.revoke('staff session ended');
    return false;
  }

  /**
   * The waiting room let this connection go without a place in the call
   * (declined, a new patient link, the end): like any connection without a
   * place, it is closed after the idle deadline, and spends its address's
   * budget again, not the waiting room's.
   */
  private turnedAway(): void {
    if (this.room || !this.waiting) return;
    this.waiting = false;
    this.guard.noPlace();
    if (!this.ended) this.armIdle();
  }

  /** A connection that holds no place (in a call, in the waiting room) is closed after limits.sockets.idleMs. */
  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.holdsAPlace || this.ended || !this.socket.connected) return;
      this.log.debug('no place taken in time: disconnected');
      this.socket.disconnect(true);
    }, this.deps.limits.sockets.idleMs);
    this.idleTimer.unref?.();
  }

  private async run(name: RequestName, payload: unknown, reply: (a: Ack<unknown>) => void): Promise<void> {
    if (this.ended) {
      reply(failure('unauthenticated', 'your session has ended: sign in again'));
      return;
    }
    try {
      const handler = this.handlers[name] as Handler<RequestName>;
      const data = await handler(payload as never);
      // The client checks every answer against the same schema: one it would
      // refuse is never sent, and a join it would refuse leaves no peer behind.
      const checked = requests[name].res.safeParse(data);
      if (!checked.success) {
        this.log.error({ event: name, issue: describeIssue(checked.error) }, 'answer does not match the protocol');
        if (name === 'join') await this.leaveRoom('left');
        reply(failure('internal', 'internal error'));
        return;
      }
      reply({ ok: true, data });
    } catch (err) {
      if (err instanceof SignallingError) {
        reply(failure(err.code, err.message, err.redirect));
      } else {
        this.log.error({ event: name, err: err instanceof Error ? err.message : String(err) }, 'request failed');
        reply(failure('internal', 'internal error'));
      }
    }
  }

  /**
   * Several nodes: throws SignallingError 'elsewhere' with the hosting node's
   * redirect (and a staff ticket for a staff connection) unless the
   * consultation's room is, or now goes, on this node.
   */
  private async hereOrRedirect(consultationId: string): Promise<void> {
    const redirect = await this.deps.placement?.locate(consultationId, this.guard.sessionHash);
    if (redirect) throw new SignallingError('elsewhere', `the consultation is on node ${redirect.nodeId}`, redirect);
  }

  private joined(): Room {
    if (!this.room || !this.room.has(this.peerId)) throw new SignallingError('not-joined', 'join a room first');
    return this.room;
  }

  private async leaveRoom(reason: LeaveReason): Promise<void> {
    this.waiting = false;
    this.guard.noPlace();
    this.consultations.leaveWaitingRoom(this.peerId);
    const room = this.room;
    if (!room) return;
    this.room = undefined;
    if (!this.ended) this.armIdle();
    if (!room.has(this.peerId)) return; // replaced by the same participant's newer connection
    room.leave(this.peerId, reason);
    await this.consultations.left(room.id, this.actor());
  }

  private actor(): string {
    const user = this.guard.user;
    return user ? `${user.role}:${user.id}` : 'patient';
  }

  /** The signed-in doctor of the room this socket joined. */
  private doctorInRoom(): { doctor: User; room: Room } {
    const room = this.joined();
    const user = this.guard.user;
    if (!user || user.role !== 'doctor' || room.roleOf(this.peerId) !== 'doctor') {
      throw new SignallingError('forbidden', 'only the consultation’s doctor can do this');
    }
    return { doctor: user, room };
  }

  private readonly handlers: { [N in RequestName]: Handler<N> } = {
    ...roomRequests(() => this.joined(), this.peerId),
    enterWaitingRoom: async ({ consultationId, token, displayName }) => {
      if (this.room) throw new SignallingError('already-joined', 'already in the call');
      // Declined, turned away by a new link, or told of the end: it holds no place from then on.
      const notify: Notify = (event, data) => {
        if (event === 'declined' || event === 'consultationEnded') this.turnedAway();
        this.notify(event, data);
      };
      // The link first: only a holder of a live link may make the room land somewhere (several nodes).
      const valid = await this.consultations.validLink(consultationId, token);
      await this.hereOrRedirect(consultationId);
      const c = await this.consultations.enterWaitingRoom(this.peerId, valid, displayName, notify);
      // Unless turned away already, while the store recorded the entry.
      if (this.consultations.isWaiting(this.peerId)) {
        this.waiting = true;
        this.guard.waitingFor(c.id);
      }
      return { patientName: c.patientName };
    },
    admit: async ({ requestId, as }) => {
      const { doctor, room } = this.doctorInRoom();
      await this.consultations.admit(doctor, room.id, requestId, as);
      return {};
    },
    decline: async ({ requestId }) => {
      const { doctor, room } = this.doctorInRoom();
      await this.consultations.decline(doctor, room.id, requestId);
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
      const grant = await this.consultations.authorizeJoin(this.guard.user, this.peerId, roomId, rejoinToken);
      await this.hereOrRedirect(roomId);
      let room = await this.rooms.getOrCreate(roomId);
      // The room may have just closed (its last peer left): take the new one.
      if (room.isClosed) room = await this.rooms.getOrCreate(roomId);
      const res = room.join({
        peerId: this.peerId,
        participantId: grant.participantId,
        displayName: grant.name,
        role: grant.role,
        notify: this.notify,
        canTakeChat: () => this.canTakeChat(),
      });
      this.room = room;
      this.waiting = false;
      if (grant.role === 'patient') this.guard.inCall(roomId, grant.participantId);
      const issued = await this.consultations.joined(roomId, grant, this.actor());
      const linksExpireAt = await this.consultations.linksExpireAt(roomId);
      return {
        ...(linksExpireAt === undefined ? {} : { linksExpireAt }),
        ...res,
        waiting: grant.role === 'doctor' ? this.consultations.waitingList(roomId) : [],
        ...(issued ? { rejoinToken: issued } : {}),
      };
    },
    leave: async () => {
      this.joined();
      await this.leaveRoom('left');
      return {};
    },
    resume: () => {
      const joined = this.room !== undefined && this.room.has(this.peerId);
      return joined ? { joined, peerId: this.peerId } : { joined };
    },
    startCheck: async ({ consultationId, token }) => {
      if (this.room || this.waiting) throw new SignallingError('already-joined', 'already in a room');
      await this.consultations.checkLink(consultationId, token);
      const room = await this.rooms.createCheckRoom(`check-${this.peerId}`);
      const { routerRtpCapabilities } = room.join({ peerId: this.peerId, participantId: this.peerId, displayName: 'check', role: 'patient', notify: this.notify });
      this.room = room;
      // A check holds SFU resources: it ends on its own.
      const timer = setTimeout(() => this.room === room && (this.queue = this.queue.then(() => this.leaveRoom('left')).catch(this.storeFailed)), CHECK_MS);
      room.onEmpty = () => clearTimeout(timer);
      return { peerId: this.peerId, routerRtpCapabilities, checkMs: CHECK_MS, relay: room.media.hasRelay };
    },
    reportDecryptFailures: (req) => {
      // Only a call's frames count: a connection check decrypts its own loopback, not anyone's media.
      if (this.joined().isConnectionCheck) throw new SignallingError('forbidden', 'not in a call');
      this.deps.metrics?.decryptFailuresReported(req.failures);
      return {};
    },
  };
}
