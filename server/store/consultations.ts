// Consultations: a doctor, a patient's display name, a time. The patient's
// link token is returned once at creation; only its SHA-256 is stored.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from './database.ts';

export type ConsultationStatus = 'scheduled' | 'waiting' | 'in_progress' | 'ended';
export const CONSULTATION_STATUSES: readonly ConsultationStatus[] = ['scheduled', 'waiting', 'in_progress', 'ended'];

export interface Consultation {
  /** 16 random [a-z0-9]; also the media room id. */
  id: string;
  doctorId: string;
  patientName: string;
  scheduledAt: number;
  status: ConsultationStatus;
  createdBy: string;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  /** The patient link stops working at this time (scheduledAt + 24 h). */
  expiresAt: number;
  /** When the room last became empty; cleared when someone joins (stops the console's duration). */
  emptiedAt?: number;
}

export type TokenVerdict = 'ok' | 'invalid' | 'ended' | 'expired';

export const LINK_VALIDITY_MS = 24 * 60 * 60 * 1000;
export const CONSULTATION_ID = /^[a-z0-9]{16}$/;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const MAX_TOKEN_LENGTH = 128;

interface ConsultationRow {
  id: string;
  doctor_id: string;
  patient_name: string;
  scheduled_at: number;
  status: ConsultationStatus;
  created_by: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  expires_at: number;
  emptied_at: number | null;
}

const COLUMNS = [
  'id',
  'doctor_id',
  'patient_name',
  'scheduled_at',
  'status',
  'created_by',
  'created_at',
  'started_at',
  'ended_at',
  'expires_at',
  'emptied_at',
] as const;

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** 16 characters from [a-z0-9], uniformly (rejection sampling: 252 = 7 × 36). */
export function newConsultationId(): string {
  let id = '';
  while (id.length < 16) {
    for (const b of randomBytes(24)) {
      if (b < 252 && id.length < 16) id += ID_ALPHABET[b % 36];
    }
  }
  return id;
}

function toConsultation(r: ConsultationRow): Consultation {
  const c: Consultation = {
    id: r.id,
    doctorId: r.doctor_id,
    patientName: r.patient_name,
    scheduledAt: r.scheduled_at,
    status: r.status,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
  if (r.started_at !== null) c.startedAt = r.started_at;
  if (r.ended_at !== null) c.endedAt = r.ended_at;
  if (r.emptied_at !== null) c.emptiedAt = r.emptied_at;
  return c;
}

export class ConsultationStore {
  /** Compared against when the id is unknown, so that case costs the same. */
  private readonly dummyHash = sha256(randomBytes(32).toString('base64url'));

  constructor(private readonly db: Database) {}

  /**
   * Creates a consultation with a first patient token, returned here only (the
   * staff API does not pass it on: the doctor's browser asks for its own with
   * newPatientToken, so the clinic admin never holds a patient link).
   * Throws RangeError for a malformed name or time.
   */
  async create(i: { doctorId: string; patientName: string; scheduledAt: number; createdBy: string }): Promise<{
    consultation: Consultation;
    patientToken: string;
  }> {
    const patientName = i.patientName.trim();
    if (patientName.length < 1 || patientName.length > 64) throw new RangeError('patient name must be 1–64 characters');
    if (!Number.isSafeInteger(i.scheduledAt)) throw new RangeError('scheduledAt must be a time in ms');
    const patientToken = randomBytes(32).toString('base64url');
    const createdAt = Date.now();
    const expiresAt = i.scheduledAt + LINK_VALIDITY_MS;
    for (;;) {
      const id = newConsultationId();
      const r = await this.db.kysely
        .insertInto('consultations')
        .values({
          id,
          doctor_id: i.doctorId,
          patient_name: patientName,
          scheduled_at: i.scheduledAt,
          status: 'scheduled',
          created_by: i.createdBy,
          created_at: createdAt,
          expires_at: expiresAt,
          patient_token_hash: sha256(patientToken).toString('hex'),
        })
        // 36^16 ids: a collision is astronomically unlikely, but costs nothing to handle.
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) continue;
      return {
        consultation: {
          id,
          doctorId: i.doctorId,
          patientName,
          scheduledAt: i.scheduledAt,
          status: 'scheduled',
          createdBy: i.createdBy,
          createdAt,
          expiresAt,
        },
        patientToken,
      };
    }
  }

  /**
   * A new patient token for consultation `id`, returned once; the previous one
   * (and any link built on it) stops working. Undefined for an unknown or
   * ended consultation (one conditional UPDATE: an end at the same time wins or loses whole).
   */
  async newPatientToken(id: string): Promise<string | undefined> {
    const token = randomBytes(32).toString('base64url');
    const r = await this.db.kysely
      .updateTable('consultations')
      .set({ patient_token_hash: sha256(token).toString('hex') })
      .where('id', '=', id)
      .where('status', '<>', 'ended')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1 ? token : undefined;
  }

  async get(id: string): Promise<Consultation | undefined> {
    const row = await this.db.kysely.selectFrom('consultations').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    return row && toConsultation(row);
  }

  /** All consultations, the latest scheduled first. */
  async list(): Promise<Consultation[]> {
    const rows = await this.db.kysely
      .selectFrom('consultations')
      .select(COLUMNS)
      .orderBy('scheduled_at', 'desc')
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toConsultation);
  }

  /** A doctor's consultations scheduled in [from, to) (ms), in time order. */
  async listForDoctor(doctorId: string, from: number, to: number): Promise<Consultation[]> {
    const rows = await this.db.kysely
      .selectFrom('consultations')
      .select(COLUMNS)
      .where('doctor_id', '=', doctorId)
      .where('scheduled_at', '>=', from)
      .where('scheduled_at', '<', to)
      .orderBy('scheduled_at')
      .orderBy('created_at')
      .execute();
    return rows.map(toConsultation);
  }

  /**
   * Checks a patient link. 'invalid' for an unknown id or a wrong token (the
   * state of the consultation is only revealed to holders of its token).
   */
  async verifyPatientToken(id: string, token: string, now = Date.now()): Promise<TokenVerdict> {
    const row =
      typeof id === 'string' && id.length <= 64
        ? await this.db.kysely
            .selectFrom('consultations')
            .select(['patient_token_hash as h', 'status', 'expires_at'])
            .where('id', '=', id)
            .executeTakeFirst()
        : undefined;
    const presented = sha256(typeof token === 'string' && token.length <= MAX_TOKEN_LENGTH ? token : '');
    const expected = row ? Buffer.from(row.h, 'hex') : this.dummyHash;
    const match = expected.length === presented.length && timingSafeEqual(presented, expected);
    if (!row || !match || typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      return 'invalid';
    }
    if (row.status === 'ended') return 'ended';
    if (now >= row.expires_at) return 'expired';
    return 'ok';
  }

  /**
   * Moves a consultation to `status`. Records startedAt on the first
   * 'in_progress' and endedAt on 'ended' (`at`, ms); 'ended' is final (later
   * calls change nothing: one conditional UPDATE). Returns the consultation as
   * it now is. Throws RangeError for an unknown status.
   */
  async setStatus(id: string, status: ConsultationStatus, at = Date.now()): Promise<Consultation | undefined> {
    if (!CONSULTATION_STATUSES.includes(status)) throw new RangeError('unknown consultation status');
    const t = Math.trunc(at);
    await this.db.kysely
      .updateTable('consultations')
      .set({
        status,
        ...(status === 'in_progress' ? { started_at: sql<number>`coalesce(started_at, ${t})` } : {}),
        ...(status === 'ended' ? { ended_at: t } : {}),
      })
      .where('id', '=', id)
      .where('status', '<>', 'ended')
      .execute();
    return this.get(id);
  }

  /**
   * Records when the consultation's room became empty (`at`, ms), or that
   * someone is in it again (`undefined`). The console's duration stops there.
   */
  async setEmptiedAt(id: string, at: number | undefined): Promise<void> {
    await this.db.kysely
      .updateTable('consultations')
      .set({ emptied_at: at === undefined ? null : Math.trunc(at) })
      .where('id', '=', id)
      .execute();
  }
}
