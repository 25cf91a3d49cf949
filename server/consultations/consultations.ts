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
import { MAX_DISPLAY_NAME, MAX_WAITING, type Role, type WaitingPatient } from '../../shared/protocol/signalling.ts';
import { SharedBudgets } from '../signalling/rate-limits.ts';
import { displayNameOf } from '../../shared/protocol/names.ts';

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
  /** Its connection is up (false while held for the grace period). */
  connected: boolean;
}

/** A patient entering the waiting room is recorded at most once per this, per consultation (ms). */
const WAITING_AUDIT_EVERY_MS = 60_000;

export class Consultations {
  /** Waiting (and admitted, not yet joined) patients by request id (their socket's peer id). */
  private readonly waiting = new Map<string, WaitingEntry>();
  /** Entries into each consultation's waiting room, per link (issue 12, item 9). */
  private readonly entries: SharedBudgets;
  /** Connection checks per link (checkLink). */
  private readonly checks: SharedBudgets;
  /** When each consultation's 'patient_waiting' was last recorded (ms): entries in between are coalesced. */
  private readonly waitingAudited = new Map<string, number>();
  /** Per consultation, the tail of its store updates that read room state (see inOrder). */
  private readonly updates = new Map<string, Promise<unknown>>();

  /** `entryRate`: how often one link may enter its waiting room (burst, then per second). */
  constructor(
    private readonly stores: Stores,
    private readonly rooms: RoomRegistry,
    private readonly log: Logger,
    entryRate: { burst: number; perSecond: number } = { burst: 10, perSecond: 1 / 6 },
  ) {
    this.entries = new SharedBudgets(entryRate.burst, entryRate.perSecond);
    this.checks = new SharedBudgets(6, 1 / 60);
  }

  /**
   * A connection check with a patient link: the link must be valid (not
   * ended, not expired); at most 6 checks, then one a minute, per link.
   * Nothing is recorded and nobody is told. Throws SignallingError
   * 'forbidden', 'ended', 'expired', 'rate-limited'.
   */
  async checkLink(consultationId: string, token: string): Promise<void> {
    const c = await this.validLink(consultationId, token);
    if (!this.checks.take(c.id)) throw new SignallingError('rate-limited', 'too many checks with this link; wait a little');
  }

  /**
   * The consultation, if `token` is its live patient link; nothing recorded.
   * Throws SignallingError 'forbidden' (not a valid link), 'ended', 'expired'.
   */
  async validLink(consultationId: string, token: string): Promise<Consultation> {
    const c = await this.stores.consultations.get(consultationId);
    const verdict = c ? await this.stores.consultations.verifyPatientToken(consultationId, token) : 'invalid';
    if (!c || verdict === 'invalid') throw new SignallingError('forbidden', 'this link is not valid');
    if (verdict === 'ended') throw new SignallingError('ended', 'this consultation has ended');
    if (verdict === 'expired') throw new SignallingError('expired', 'this link has expired');
    return c;
  }

  /**
   * A patient whose link validLink() accepted for `c` enters its waiting
   * room; the doctor in the room is told. Bounded for a link holder (issue 12,
   * items 5 and 9): at most MAX_WAITING waiting at once, entries rate-limited
   * per link, and one audit row per minute however often it enters. Throws
   * SignallingError: 'already-joined', 'rate-limited'.
   */
  async enterWaitingRoom(requestId: string, c: Consultation, displayName: string, notify: Notify): Promise<Consultation> {
    const consultationId = c.id;
    if (this.waiting.has(requestId)) throw new SignallingError('already-joined', 'already waiting');
    // Read before the checks below, which then run without a pause (in-memory state cannot change under them).
    const credentialHolders = await this.stores.rejoinCredentials.participants(consultationId);
    if (this.waiting.has(requestId)) throw new SignallingError('already-joined', 'already waiting');
    // Counted only for holders of the link, so guesses cannot lock the real patient out.
    if (!this.entries.take(c.id)) throw new SignallingError('rate-limited', 'too many entries with this link; wait a little');
    // A page reloaded in the waiting room comes back as a new entry: its old one, whose
    // connection is down, goes (no stale entry, and it is not a "second device").
    for (const w of [...this.waiting.values()]) {
      if (w.consultationId === consultationId && !w.connected && !w.admitted) this.leaveWaitingRoom(w.requestId);
    }
    if (this.waitingList(c.id).length >= MAX_WAITING) throw new SignallingError('rate-limited', 'the waiting room is full');
    const entry: WaitingEntry = { requestId, displayName, consultationId, notify, admitted: false, connected: true };
    const sameLink = this.sameLink(consultationId, credentialHolders);
    if (sameLink) entry.sameLink = sameLink;
    this.waiting.set(requestId, entry);
    const now = Date.now();
    const audit = now - (this.waitingAudited.get(c.id) ?? -Infinity) >= WAITING_AUDIT_EVERY_MS;
    if (audit) {
      this.waitingAudited.set(c.id, now);
      if (this.waitingAudited.size > 10_000) this.waitingAudited.clear();
    }
    this.rooms.peek(c.id)?.notifyRole('doctor', 'patientWaiting', waitingView(entry));
    if (c.status === 'scheduled') await this.stores.consultations.setStatus(c.id, 'waiting');
    if (audit) await this.stores.audit.record(c.id, 'patient_waiting', 'patient', now);
    return c;
  }

  /**
   * One link, one patient: a new holder of the link is never a silent second
   * patient. Is someone else with this link in the call, waiting, or admitted
   * earlier and able to come back (`credentialHolders`: who holds a live rejoin credential)?
   */
  private sameLink(consultationId: string, credentialHolders: readonly string[]): WaitingPatient['sameLink'] {
    const present = new Set(this.rooms.peek(consultationId)?.peerInfos().filter((p) => p.role === 'patient').map((p) => p.participantId));
    if (present.size) return 'in-call';
    if ([...this.waiting.values()].some((w) => w.consultationId === consultationId && !w.admitted && w.connected)) return 'waiting';
    if (credentialHolders.some((p) => !present.has(p))) return 'earlier';
    return undefined;
  }

  /** The consultation `requestId` waits for (admitted or not), if it waits. */
  waitingConsultation(requestId: string): string | undefined {
    return this.waiting.get(requestId)?.consultationId;
  }

  /** Whether `requestId` is in the waiting room (admitted or not). */
  isWaiting(requestId: string): boolean {
    return this.waiting.has(requestId);
  }

  /** A waiting patient's connection dropped (held for the grace period) or came back. */
  waitingConnection(requestId: string, connected: boolean): void {
    const w = this.waiting.get(requestId);
    if (w) w.connected = connected;
  }

  /** The patient's socket went away (or it joined the room). */
  leaveWaitingRoom(requestId: string): void {
    const w = this.waiting.get(requestId);
    if (!w) return;
    this.waiting.delete(requestId);
    this.rooms.peek(w.consultationId)?.notifyRole('doctor', 'waitingLeft', { requestId });
  }

  /**
   * The consultation's patient link was replaced (the doctor made a new
   * one): whoever waits with the old one is turned away ('declined'). Those
   * already admitted keep their place.
   */
  dropWaiting(consultationId: string): void {
    for (const w of [...this.waiting.values()]) {
      if (w.consultationId !== consultationId || w.admitted) continue;
      this.waiting.delete(w.requestId);
      w.notify('declined', {});
      this.rooms.peek(consultationId)?.notifyRole('doctor', 'waitingLeft', { requestId: w.requestId });
    }
  }

  /**
   * Lets a waiting patient in. `as` 'replace' (the default for a second
   * device of the same link) gives it the place of the patient already in
   * the call, who is told it was replaced, or declines the others waiting
   * with the same link; 'add' admits it as one more participant.
   */
  async admit(doctor: User, consultationId: string, requestId: string, as?: 'replace' | 'add'): Promise<void> {
    await this.ownedBy(doctor, consultationId);
    const w = this.waitingIn(consultationId, requestId);
    if ((as ?? (w.sameLink ? 'replace' : 'add')) === 'replace' && w.sameLink) {
      // The device to replace: one whose connection dropped first, else the one in the call.
      const patients = this.rooms.peek(consultationId)?.peerInfos().filter((p) => p.role === 'patient') ?? [];
      const current = patients.find((p) => p.reconnecting) ?? patients[0];
      // Whoever was admitted earlier and is not here cannot come back with its credential
      // (one DELETE of all but those present, before the admitted patient can join and get its own).
      await this.inOrder(consultationId, () =>
        this.stores.rejoinCredentials.revokeOthers(
          consultationId,
          patients.map((p) => p.participantId),
        ),
      );
      // The entry may have gone while the store was busy (its patient left).
      this.waitingIn(consultationId, requestId);
      if (current) w.takesPlaceOf = current.participantId;
      for (const other of [...this.waiting.values()]) {
        if (other !== w && other.consultationId === consultationId && !other.admitted) await this.decline(doctor, consultationId, other.requestId);
      }
    }
    w.admitted = true;
    w.notify('admitted', {});
    await this.stores.audit.record(consultationId, 'admitted', `doctor:${doctor.id}`);
  }

  async decline(doctor: User, consultationId: string, requestId: string): Promise<void> {
    await this.ownedBy(doctor, consultationId);
    const w = this.waitingIn(consultationId, requestId);
    this.waiting.delete(requestId);
    w.notify('declined', {});
    this.rooms.peek(consultationId)?.notifyRole('doctor', 'waitingLeft', { requestId });
    await this.stores.audit.record(consultationId, 'declined', `doctor:${doctor.id}`);
  }

  /**
   * Who may join `consultationId`'s room on this socket, and as what: its
   * signed-in doctor; a patient this very connection waited for and the
   * doctor admitted; or a patient presenting a rejoin credential of this
   * consultation (issued to an earlier, admitted connection).
   */
  async authorizeJoin(user: User | undefined, requestId: string, consultationId: string, rejoinToken?: string): Promise<JoinGrant> {
    // The credential is checked before anything about the consultation is
    // told (issue 12, item 14): without the right one, an unknown, a live and
    // an ended consultation get the same answer.
    const c = await this.stores.consultations.get(consultationId);
    if (user?.role === 'admin') throw new SignallingError('forbidden', 'administrators do not join consultations');
    if (user?.role === 'doctor') {
      if (!c || c.doctorId !== user.id) throw new SignallingError('forbidden', 'not your consultation');
      if (c.status === 'ended') throw new SignallingError('ended', 'this consultation has ended');
      return { role: 'doctor', name: displayNameOf(user.name, MAX_DISPLAY_NAME), participantId: doctorParticipantId(consultationId, user.id), rejoined: false };
    }
    if (rejoinToken !== undefined) {
      const cred = await this.stores.rejoinCredentials.verify(rejoinToken);
      if (!c || !cred || cred.consultationId !== consultationId) {
        throw new SignallingError('unauthenticated', 'this rejoin credential is not valid: wait to be admitted');
      }
      if (c.status === 'ended') throw new SignallingError('ended', 'this consultation has ended');
      if (Date.now() > c.expiresAt) throw new SignallingError('expired', 'this link has expired');
      this.leaveWaitingRoom(requestId);
      return { role: 'patient', name: this.distinctName(consultationId, cred.displayName, cred.participantId), participantId: cred.participantId, rejoined: true };
    }
    const w = this.waiting.get(requestId);
    if (!c || !w || w.consultationId !== consultationId || !w.admitted) {
      throw new SignallingError('unauthenticated', 'wait for the doctor to admit you');
    }
    if (c.status === 'ended') throw new SignallingError('ended', 'this consultation has ended');
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
  async linksExpireAt(consultationId: string): Promise<number | undefined> {
    return (await this.stores.consultations.get(consultationId))?.expiresAt;
  }

  /** Never two indistinguishable patients: a second "Zoé" in the room is shown as "Zoé (2)" (its own ghost does not count). */
  private distinctName(consultationId: string, name: string, participantId?: string): string {
    const others = this.rooms.peek(consultationId)?.peerInfos().filter((p) => p.participantId !== participantId) ?? [];
    const taken = new Set(others.map((p) => p.displayName));
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
  joined(consultationId: string, grant: JoinGrant, actor: string): Promise<string | undefined> {
    return this.inOrder(consultationId, async () => {
      const c = await this.stores.consultations.get(consultationId);
      if (!c || c.status === 'ended') return undefined;
      if (grant.role === 'patient' && c.status !== 'in_progress') await this.stores.consultations.setStatus(c.id, 'in_progress');
      // The room is no longer empty: the console's duration runs again.
      if (c.emptiedAt !== undefined) await this.stores.consultations.setEmptiedAt(c.id, undefined);
      await this.stores.audit.record(consultationId, grant.rejoined ? 'rejoined' : 'joined', actor);
      if (grant.role !== 'patient' || grant.rejoined) return undefined;
      if (grant.replaces) await this.stores.rejoinCredentials.revokeParticipant(consultationId, grant.participantId);
      return this.stores.rejoinCredentials.issue({
        consultationId,
        participantId: grant.participantId,
        displayName: grant.name,
        expiresAt: c.expiresAt,
      });
    });
  }

  /** Told of every connection event (ops: metrics count them). */
  onConnectionEvent: ((event: 'connection_lost' | 'reconnected' | 'timed_out') => void) | undefined;

  /** Metadata-only audit of a participant's connection: dropped, back within the grace period, or gone. */
  async connection(consultationId: string, event: 'connection_lost' | 'reconnected' | 'timed_out', actor: string): Promise<void> {
    this.onConnectionEvent?.(event);
    if (await this.stores.consultations.get(consultationId)) await this.stores.audit.record(consultationId, event, actor);
  }

  /** Someone left the room (after the room let them go): the last one out stops the console's duration. */
  left(consultationId: string, actor: string): Promise<void> {
    return this.inOrder(consultationId, async () => {
      const c = await this.stores.consultations.get(consultationId);
      if (!c) return;
      await this.stores.audit.record(consultationId, 'left', actor);
      if (c.status !== 'ended' && this.live(consultationId).connected.length === 0) {
        await this.stores.consultations.setEmptiedAt(consultationId, Date.now());
      }
    });
  }

  /** Ends it for everyone: the room closes, waiting patients are told, links stop working. */
  async end(consultationId: string, actor: string): Promise<void> {
    await this.inOrder(consultationId, async () => {
      const c = await this.stores.consultations.get(consultationId);
      if (!c) throw new SignallingError('not-found', 'no such consultation');
      if (c.status !== 'ended') {
        const at = Date.now();
        await this.stores.consultations.setStatus(consultationId, 'ended', at);
        await this.stores.audit.record(consultationId, 'ended', actor, at);
        this.log.info({ consultationId }, 'consultation ended');
      }
      await this.stores.rejoinCredentials.revokeConsultation(consultationId);
    });
    await this.endHere(consultationId);
  }

  /**
   * The part of end() on this node's state: waiting patients are told, the
   * room closes. Several nodes: what a node does when another ended the
   * consultation in the store (cluster-events.ts).
   */
  async endHere(consultationId: string): Promise<void> {
    for (const w of [...this.waiting.values()]) {
      if (w.consultationId !== consultationId) continue;
      this.waiting.delete(w.requestId);
      w.notify('consultationEnded', {});
    }
    (await this.rooms.get(consultationId))?.end();
  }

  async endAsDoctor(doctor: User, consultationId: string): Promise<void> {
    await this.ownedBy(doctor, consultationId);
    return this.end(consultationId, `doctor:${doctor.id}`);
  }

  waitingList(consultationId: string): WaitingPatient[] {
    return [...this.waiting.values()].filter((w) => w.consultationId === consultationId && !w.admitted).map(waitingView);
  }

  /**
   * Several nodes: the status another node published for a consultation this
   * node has nothing of (cluster-events.ts LiveBoard); unset on one node.
   */
  remoteLive: ((consultationId: string) => LiveStatus | undefined) | undefined;

  /** Whether anything of `consultationId` is on this node: its room, or someone in its waiting room (admitted or not). */
  inUseHere(consultationId: string): boolean {
    return this.rooms.has(consultationId) || [...this.waiting.values()].some((w) => w.consultationId === consultationId);
  }

  /** This node's consultations with someone in the room or waiting, and their live status (published to the other nodes). */
  liveHere(): [string, LiveStatus][] {
    const ids = new Set([...this.rooms.all().map((r) => r.id), ...[...this.waiting.values()].map((w) => w.consultationId)]);
    return [...ids].map((id) => [id, this.localLive(id)]);
  }

  /** For the admin console and the doctor's dashboard: this node's view, or (several nodes) the hosting node's. */
  live(consultationId: string): LiveStatus {
    if (this.remoteLive && !this.inUseHere(consultationId)) return this.remoteLive(consultationId) ?? { connected: [], waiting: 0 };
    return this.localLive(consultationId);
  }

  private localLive(consultationId: string): LiveStatus {
    const room = this.rooms.peek(consultationId);
    return {
      connected:
        room?.peerInfos().map((p) => ({ role: p.role, name: p.displayName, ...(p.reconnecting ? { reconnecting: true } : {}) })) ?? [],
      waiting: this.waitingList(consultationId).length,
    };
  }

  private async ownedBy(doctor: User, consultationId: string): Promise<void> {
    const c = await this.stores.consultations.get(consultationId);
    if (!c || c.doctorId !== doctor.id) throw new SignallingError('forbidden', 'not your consultation');
  }

  /**
   * Runs `work` after the consultation's earlier updates, one at a time
   * (whatever their outcome). The store is async: a join and a leave that
   * both read the room and then write (emptiedAt, credentials) would
   * otherwise interleave and leave the later state of the room unrecorded.
   */
  private inOrder<T>(consultationId: string, work: () => Promise<T>): Promise<T> {
    const run = (this.updates.get(consultationId) ?? Promise.resolve()).then(work, work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.updates.set(consultationId, tail);
    void tail.then(() => {
      if (this.updates.get(consultationId) === tail) this.updates.delete(consultationId);
    });
    return run;
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
