// The life of a consultation on the server: who may enter its room (the
// signed-in doctor it belongs to; patients holding its link, once the doctor
// admitted them), the waiting room, live status for the admin console, and
// ending it. Metadata only: it never sees media, chat or keys.
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Stores } from '../store/index.ts';
import type { User } from '../store/users.ts';
import type { Consultation } from '../store/consultations.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import type { Notify } from '../rooms/peer.ts';
import { SignallingError } from '../signalling/errors.ts';
import type { Role, WaitingPatient } from '../../shared/protocol/signalling.ts';

export interface LiveStatus {
  connected: { role: Role; name: string; reconnecting?: boolean }[];
  waiting: number;
}

/** Who may join, as what, and whether it comes back with a rejoin credential. */
export interface JoinGrant {
  role: Role;
  name: string;
  participantId: string;
  /** Came back with a rejoin credential (not admitted again). */
  rejoined: boolean;
  /** Admitted to take the place of the same link's earlier device (its credentials stop working). */
  replaces?: boolean;
}

interface WaitingEntry extends WaitingPatient {
  consultationId: string;
  notify: Notify;
  admitted: boolean;
  /** Admitted to take the place of this participant (the same link's earlier device). */
  takesPlaceOf?: string;
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
    // One link, one patient: a second holder of the link is never a silent second patient.
    const inCall = this.rooms.peek(c.id)?.peerInfos().some((p) => p.role === 'patient');
    const alsoWaiting = [...this.waiting.values()].some((w) => w.consultationId === consultationId && !w.admitted);
    const sameLink = inCall ? ('in-call' as const) : alsoWaiting ? ('waiting' as const) : undefined;
    const entry: WaitingEntry = { requestId, displayName, consultationId, notify, admitted: false, ...(sameLink ? { sameLink } : {}) };
    this.waiting.set(requestId, entry);
    if (c.status === 'scheduled') this.stores.consultations.setStatus(c.id, 'waiting');
    this.stores.audit.record(c.id, 'patient_waiting', 'patient');
    this.rooms.peek(c.id)?.notifyRole('doctor', 'patientWaiting', waitingView(entry));
    return c;
  }

  /** The patient's socket went away (or it joined the room). */
  leaveWaitingRoom(requestId: string): void {
    const w = this.waiting.get(requestId);
    if (!w) return;
    this.waiting.delete(requestId);
    this.rooms.peek(w.consultationId)?.notifyRole('doctor', 'waitingLeft', { requestId });
  }

  /**
   * Lets a waiting patient in. `as` 'replace' (the default for a second
   * device of the same link) gives it the place of the patient already in
   * the call, who is told it was replaced, or declines the others waiting
   * with the same link; 'add' admits it as one more participant.
   */
  admit(doctor: User, consultationId: string, requestId: string, as?: 'replace' | 'add'): void {
    this.ownedBy(doctor, consultationId);
    const w = this.waitingIn(consultationId, requestId);
    if ((as ?? (w.sameLink ? 'replace' : 'add')) === 'replace' && w.sameLink) {
      const current = this.rooms.peek(consultationId)?.peerInfos().find((p) => p.role === 'patient');
      if (current) w.takesPlaceOf = current.participantId;
      for (const other of [...this.waiting.values()]) {
        if (other !== w && other.consultationId === consultationId && !other.admitted) this.decline(doctor, consultationId, other.requestId);
      }
    }
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

  /**
   * Who may join `consultationId`'s room on this socket, and as what: its
   * signed-in doctor; a patient this very connection waited for and the
   * doctor admitted; or a patient presenting a rejoin credential of this
   * consultation (issued to an earlier, admitted connection).
   */
  authorizeJoin(user: User | undefined, requestId: string, consultationId: string, rejoinToken?: string): JoinGrant {
    const c = this.stores.consultations.get(consultationId);
    if (!c) throw new SignallingError('not-found', 'no such consultation');
    if (c.status === 'ended') throw new SignallingError('ended', 'this consultation has ended');
    if (user?.role === 'doctor') {
      if (c.doctorId !== user.id) throw new SignallingError('forbidden', 'not your consultation');
      return { role: 'doctor', name: user.name, participantId: doctorParticipantId(consultationId, user.id), rejoined: false };
    }
    if (user?.role === 'admin') throw new SignallingError('forbidden', 'administrators do not join consultations');
    if (rejoinToken !== undefined) {
      const cred = this.stores.rejoinCredentials.verify(rejoinToken);
      if (!cred || cred.consultationId !== consultationId) {
        throw new SignallingError('unauthenticated', 'this rejoin credential is not valid: wait to be admitted');
      }
      if (Date.now() > c.expiresAt) throw new SignallingError('expired', 'this link has expired');
      return { role: 'patient', name: cred.displayName, participantId: cred.participantId, rejoined: true };
    }
    const w = this.waiting.get(requestId);
    if (!w || w.consultationId !== consultationId || !w.admitted) {
      throw new SignallingError('unauthenticated', 'wait for the doctor to admit you');
    }
    if (Date.now() > c.expiresAt) throw new SignallingError('expired', 'this link has expired');
    // Out of the waiting room, and off the doctor's list (it may have been admitted from another tab).
    this.leaveWaitingRoom(requestId);
    return {
      role: 'patient',
      name: w.takesPlaceOf ? w.displayName : this.distinctName(consultationId, w.displayName),
      participantId: w.takesPlaceOf ?? randomBytes(16).toString('base64url'),
      rejoined: false,
      ...(w.takesPlaceOf ? { replaces: true } : {}),
    };
  }

  /** When `consultationId`'s links stop working (ms since the epoch), if it exists. */
  linksExpireAt(consultationId: string): number | undefined {
    return this.stores.consultations.get(consultationId)?.expiresAt;
  }

  /** Never two indistinguishable patients: a second "Zoé" in the room is shown as "Zoé (2)". */
  private distinctName(consultationId: string, name: string): string {
    const taken = new Set(this.rooms.peek(consultationId)?.peerInfos().map((p) => p.displayName) ?? []);
    if (!taken.has(name)) return name;
    for (let n = 2; ; n++) {
      const candidate = `${name.slice(0, 58)} (${n})`;
      if (!taken.has(candidate)) return candidate;
    }
  }

  /**
   * Records the join, and for a patient admitted on this connection issues
   * the rejoin credential it keeps for the tab's life (returned once).
   */
  joined(consultationId: string, grant: JoinGrant, actor: string): string | undefined {
    const c = this.stores.consultations.get(consultationId);
    if (!c || c.status === 'ended') return undefined;
    if (grant.role === 'patient' && c.status !== 'in_progress') this.stores.consultations.setStatus(c.id, 'in_progress');
    // The room is no longer empty: the console's duration runs again.
    if (c.emptiedAt !== undefined) this.stores.consultations.setEmptiedAt(c.id, undefined);
    this.stores.audit.record(consultationId, grant.rejoined ? 'rejoined' : 'joined', actor);
    if (grant.role !== 'patient' || grant.rejoined) return undefined;
    if (grant.replaces) this.stores.rejoinCredentials.revokeParticipant(consultationId, grant.participantId);
    return this.stores.rejoinCredentials.issue({
      consultationId,
      participantId: grant.participantId,
      displayName: grant.name,
      expiresAt: c.expiresAt,
    });
  }

  /** Metadata-only audit of a participant's connection: dropped, back within the grace period, or gone. */
  connection(consultationId: string, event: 'connection_lost' | 'reconnected' | 'timed_out', actor: string): void {
    if (this.stores.consultations.get(consultationId)) this.stores.audit.record(consultationId, event, actor);
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
    this.stores.rejoinCredentials.revokeConsultation(consultationId);
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
    return [...this.waiting.values()].filter((w) => w.consultationId === consultationId && !w.admitted).map(waitingView);
  }

  /** For the admin console and the doctor's dashboard. */
  live(consultationId: string): LiveStatus {
    const room = this.rooms.peek(consultationId);
    return {
      connected:
        room?.peerInfos().map((p) => ({ role: p.role, name: p.displayName, ...(p.reconnecting ? { reconnecting: true } : {}) })) ?? [],
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

/** A doctor's participant id in one consultation: stable across rejoins, and not the account id. */
function doctorParticipantId(consultationId: string, userId: string): string {
  return createHash('sha256').update(`confide doctor\0${consultationId}\0${userId}`).digest('base64url').slice(0, 22);
}

function waitingView(w: WaitingEntry): WaitingPatient {
  return { requestId: w.requestId, displayName: w.displayName, ...(w.sameLink ? { sameLink: w.sameLink } : {}) };
}
