// Who did what to a consultation, and when. Metadata only: never names
// typed by patients, chat, media or keys.
import type { Database } from './database.ts';

export const AUDIT_EVENTS = [
  'created',
  'patient_waiting',
  'admitted',
  'declined',
  'joined',
  'left',
  'ended',
  // Reconnection (issue 9): a dropped connection, its quick resume, a full
  // rejoin (reload, server restart) and a grace period that ran out.
  'connection_lost',
  'reconnected',
  'rejoined',
  'timed_out',
  // Hardening (issue 12): the doctor's browser made a new patient link (the previous one stops working).
  'invited',
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

export interface AuditEntry {
  at: number;
  event: AuditEvent;
  actor: string;
}

/** 'admin:<id>' | 'doctor:<id>' | 'patient' | 'system'. */
const ACTOR = /^(?:(?:admin|doctor):[A-Za-z0-9_-]{1,64}|patient|system)$/;

export class AuditLog {
  constructor(private readonly db: Database) {}

  /** Throws on an unknown event or a malformed actor (so nothing else can be smuggled into the log). */
  async record(consultationId: string, event: AuditEvent, actor: string, at = Date.now()): Promise<void> {
    if (!(AUDIT_EVENTS as readonly string[]).includes(event)) throw new RangeError(`unknown audit event`);
    if (typeof actor !== 'string' || !ACTOR.test(actor)) throw new RangeError('malformed audit actor');
    if (!Number.isFinite(at)) throw new RangeError('audit time must be a number');
    await this.db.kysely.insertInto('audit').values({ consultation_id: consultationId, event, actor, at: Math.trunc(at) }).execute();
  }

  /** The consultation's trail, oldest first (`at`: ms since the epoch). */
  async list(consultationId: string): Promise<AuditEntry[]> {
    const rows = await this.db.kysely
      .selectFrom('audit')
      .select(['at', 'event', 'actor'])
      .where('consultation_id', '=', consultationId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows as AuditEntry[];
  }
}
