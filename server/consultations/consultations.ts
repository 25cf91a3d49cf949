// The life of a consultation on the server: who may enter its room (the
// signed-in doctor it belongs to; patients holding its link, once the doctor
// admitted them), the waiting room, live status for the admin console, and
// ending it. Metadata only: it never sees media, chat or keys.
import type { Logger } from 'pino';
import type { Stores } from '../store/index.ts';
import type { User } from '../store/users.ts';
import type { Consultation } from '../store/consultations.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import type { Notify } from '../rooms/peer.ts';
import { SignallingError } from '../signalling/errors.ts';
import type { Role, WaitingPatient } from '../../shared/protocol/signalling.ts';

export interface LiveStatus {
  connected: { role: Role; name: string }[];
  waiting: number;
}

interface WaitingEntry extends WaitingPatient {
  consultationId: string;
  notify: Notify;
  admitted: boolean;
}

export class Consultations {
  /** Waiting (and admitted, not yet joined) patients by request id (their socket's peer id). */
  private readonly waiting = new Map<string, WaitingEntry>();

  constructor(
    private readonly stores: Stores,
    private readonly rooms: RoomRegistry,
    private readonly log: Logger,
  ) {}

  /** A patient presents the link's token; the doctor in the room is told. */
  enterWaitingRoom(requestId: string, consultationId: string, token: string, displayName: string, notify: Notify): Consultation {
    const c = this.stores.consultations.get(consultationId);
    const verdict = c ? this.stores.consultations.verifyPatientToken(consultationId, token) : 'invalid';
    if (!c || verdict === 'invalid') throw new SignallingError('forbidden', 'this link is not valid');
    if (verdict === 'ended') throw new SignallingError('ended', 'this consultation has ended');
    if (verdict === 'expired') throw new SignallingError('expired', 'this link has expired');
    if (this.waiting.has(requestId)) throw new SignallingError('already-joined', 'already waiting');
    this.waiting.set(requestId, { requestId, displayName, consultationId, notify, admitted: false });
    if (c.status === 'scheduled') this.stores.consultations.setStatus(c.id, 'waiting');
    this.stores.audit.record(c.id, 'patient_waiting', 'patient');
    this.rooms.peek(c.id)?.notifyRole('doctor', 'patientWaiting', { requestId, displayName });
    return c;
  }

  /** The patient's socket went away (or it joined the room). */
  leaveWaitingRoom(requestId: string): void {
    const w = this.waiting.get(requestId);
    if (!w) return;
    this.waiting.delete(requestId);
    this.rooms.peek(w.consultationId)?.notifyRole('doctor', 'waitingLeft', { requestId });
  }

  admit(doctor: User, consultationId: string, requestId: string): void {
    this.ownedBy(doctor, consultationId);
    const w = this.waitingIn(consultationId, requestId);
    w.admitted = true;
    this.stores.audit.record(consultationId, 'admitted', `doctor:${doctor.id}`);
    w.notify('admitted', {});
  }

  decline(doctor: User, consultationId: string, requestId: string): void {
    this.ownedBy(doctor, consultationId);
    const w = this.waitingIn(consultationId, requestId);
    this.waiting.delete(requestId);
    this.stores.audit.record(consultationId, 'declined', `doctor:${doctor.id}`);
    w.notify('declined', {});
    this.rooms.peek(consultationId)?.notifyRole('doctor', 'waitingLeft', { requestId });
  }

  /** Who may join `consultationId`'s room on this socket, and as what. */
  authorizeJoin(user: User | undefined, requestId: string, consultationId: string): { role: Role; name: string } {
    const c = this.stores.consultations.get(consultationId);
    if (!c) throw new SignallingError('not-found', 'no such consultation');
    if (c.status === 'ended') throw new SignallingError('ended', 'this consultation has ended');
    if (user?.role === 'doctor') {
      if (c.doctorId !== user.id) throw new SignallingError('forbidden', 'not your consultation');
      return { role: 'doctor', name: user.name };
    }
    if (user?.role === 'admin') throw new SignallingError('forbidden', 'administrators do not join consultations');
    const w = this.waiting.get(requestId);
    if (!w || w.consultationId !== consultationId || !w.admitted) {
      throw new SignallingError('unauthenticated', 'wait for the doctor to admit you');
    }
    if (Date.now() > c.expiresAt) throw new SignallingError('expired', 'this link has expired');
    this.waiting.delete(requestId);
    return { role: 'patient', name: w.displayName };
  }

  /** Someone entered the room: the patient's first join starts the call; the room is no longer empty. */
  joined(consultationId: string, role: Role, actor: string): void {
    const c = this.stores.consultations.get(consultationId);
    if (!c || c.status === 'ended') return;
    if (role === 'patient' && c.status !== 'in_progress') this.stores.consultations.setStatus(c.id, 'in_progress');
    if (c.emptiedAt !== undefined) this.stores.consultations.setEmptiedAt(c.id, undefined);
    this.stores.audit.record(consultationId, 'joined', actor);
  }

  /** Someone left the room (after the room let them go): the last one out stops the console's duration. */
  left(consultationId: string, actor: string): void {
    const c = this.stores.consultations.get(consultationId);
    if (!c) return;
    this.stores.audit.record(consultationId, 'left', actor);
    if (c.status !== 'ended' && this.live(consultationId).connected.length === 0) {
      this.stores.consultations.setEmptiedAt(consultationId, Date.now());
    }
  }

  /** Ends it for everyone: the room closes, waiting patients are told, links stop working. */
  async end(consultationId: string, actor: string): Promise<void> {
    const c = this.stores.consultations.get(consultationId);
    if (!c) throw new SignallingError('not-found', 'no such consultation');
    if (c.status !== 'ended') {
      const at = Date.now();
      this.stores.consultations.setStatus(consultationId, 'ended', at);
      this.stores.audit.record(consultationId, 'ended', actor, at);
      this.log.info({ consultationId }, 'consultation ended');
    }
    for (const w of [...this.waiting.values()]) {
      if (w.consultationId !== consultationId) continue;
      this.waiting.delete(w.requestId);
      w.notify('consultationEnded', {});
    }
    (await this.rooms.get(consultationId))?.end();
  }

  endAsDoctor(doctor: User, consultationId: string): Promise<void> {
    this.ownedBy(doctor, consultationId);
    return this.end(consultationId, `doctor:${doctor.id}`);
  }

  waitingList(consultationId: string): WaitingPatient[] {
    return [...this.waiting.values()]
      .filter((w) => w.consultationId === consultationId && !w.admitted)
      .map(({ requestId, displayName }) => ({ requestId, displayName }));
  }

  /** For the admin console and the doctor's dashboard. */
  live(consultationId: string): LiveStatus {
    const room = this.rooms.peek(consultationId);
    return {
      connected: room?.peerInfos().map((p) => ({ role: p.role, name: p.displayName })) ?? [],
      waiting: this.waitingList(consultationId).length,
    };
  }

  private ownedBy(doctor: User, consultationId: string): void {
    const c = this.stores.consultations.get(consultationId);
    if (!c || c.doctorId !== doctor.id) throw new SignallingError('forbidden', 'not your consultation');
  }

  private waitingIn(consultationId: string, requestId: string): WaitingEntry {
    const w = this.waiting.get(requestId);
    if (!w || w.consultationId !== consultationId) throw new SignallingError('not-found', 'no such patient waiting');
    return w;
  }
}
