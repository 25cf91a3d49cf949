// What a signalling connection may still do (issue 12, items 2 and 12): its
// staff session, read again on every request (a socket opened before logout,
// a disable, a reset or expiry keeps no authority), and its request budgets —
// its own, and the one it shares with its account, its consultation's
// waiting room, its own place in a call (a patient), or its address before
// it is any of these.
import type { User } from '../store/users.ts';
import type { SessionStore } from '../store/sessions.ts';
import type { Limits } from '../limits.ts';
import type { SharedBudgets } from './rate-limits.ts';
import { TokenBucket } from '../../shared/util/token-bucket.ts';

/** The staff session a connection was opened with: its token's hash (to re-check) and who it was. */
export interface StaffSession {
  tokenHash: string;
  user: User;
  /** ms since the epoch. */
  expiresAt: number;
}

export class ConnectionGuard {
  private readonly bucket: TokenBucket;
  /**
   * Whose budget a patient's connection spends besides its own: the
   * consultation's waiting room (its link's holders), or its own place in the
   * call; neither: its address's.
   */
  private patientPrincipal: string | undefined;

  /** `staff`: from the handshake's cookie (or a staff ticket, several nodes), if any; `ip`: the client's address. */
  constructor(
    private staff: StaffSession | undefined,
    private readonly ip: string,
    private readonly sessions: SessionStore,
    private readonly budgets: SharedBudgets,
    limits: Limits,
  ) {
    this.bucket = new TokenBucket(limits.requests.perConnection.burst, limits.requests.perConnection.perSecond);
  }

  /** The signed-in staff member, as of the last check; undefined for patients. */
  get user(): User | undefined {
    return this.staff?.user;
  }

  get sessionHash(): string | undefined {
    return this.staff?.tokenHash;
  }

  /** When the staff session ends by itself (ms since the epoch), if any. */
  get expiresAt(): number | undefined {
    return this.staff?.expiresAt;
  }

  /** Waiting with a patient link: from now on it shares the budget of everyone waiting for that consultation. */
  waitingFor(consultationId: string): void {
    if (!this.staff) this.patientPrincipal = `waiting:${consultationId}`;
  }

  /**
   * Admitted (or back with its rejoin credential) as `participantId`: a budget
   * of its own, which link holders still waiting cannot spend. One per
   * participant, however many of its connections (a rejoin replaces the old one).
   */
  inCall(consultationId: string, participantId: string): void {
    if (!this.staff) this.patientPrincipal = `patient:${consultationId}:${participantId}`;
  }

  /** Turned away, or out of the call: back to its address's budget. */
  noPlace(): void {
    this.patientPrincipal = undefined;
  }

  /** Takes one request from both budgets (every event counts); false when either is spent. */
  take(): boolean {
    return this.bucket.take() && this.budgets.take(this.principal());
  }

  /**
   * Reads the staff session again: still there, not expired, account still
   * enabled. Always true for a patient's connection.
   */
  async authorised(): Promise<boolean> {
    if (!this.staff) return true;
    const now = await this.sessions.resolveSessionByHash(this.staff.tokenHash);
    if (!now || now.user.id !== this.staff.user.id) return false;
    this.staff = { ...this.staff, user: now.user, expiresAt: now.expiresAt };
    return true;
  }

  private principal(): string {
    if (this.staff) return `user:${this.staff.user.id}`;
    if (this.patientPrincipal) return this.patientPrincipal;
    return `ip:${this.ip}`;
  }
}

/**
 * The chat relay's view of one receiver (issue 12, item 7): since when it has
 * been skipped for being behind. Too far behind, or skipped too long: drop it.
 */
export class ReceiverHealth {
  private behindSince: number | undefined;

  constructor(private readonly limits: Limits['chat']) {}

  /** Records one relay decision; true when the receiver must be disconnected. */
  relayed(skipped: boolean, backlog: number, now = Date.now()): boolean {
    if (!skipped) {
      this.behindSince = undefined;
      return false;
    }
    this.behindSince ??= now;
    if (backlog > this.limits.receiverDropBytes || now - this.behindSince > this.limits.stalledMs) {
      this.behindSince = undefined;
      return true;
    }
    return false;
  }
}
