// Consultations: a doctor, a patient's display name, a time. The patient's
// link token is returned once at creation; only its SHA-256 is stored.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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

const COLUMNS =
  'id, doctor_id, patient_name, scheduled_at, status, created_by, created_at, started_at, ended_at, expires_at, emptied_at';

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
  private readonly q;
  /** Compared against when the id is unknown, so that case costs the same. */
  private readonly dummyHash = sha256(randomBytes(32).toString('base64url'));

  constructor(db: Database) {
    this.q = {
      insert: db.prepare(
        `INSERT INTO consultations (id, doctor_id, patient_name, scheduled_at, status, created_by, created_at, expires_at, patient_token_hash)
         VALUES (?, ?, ?, ?, 'scheduled', ?, ?, ?, ?)`,
      ),
      get: db.prepare(`SELECT ${COLUMNS} FROM consultations WHERE id = ?`),
      tokenHash: db.prepare('SELECT patient_token_hash AS h, status, expires_at FROM consultations WHERE id = ?'),
      list: db.prepare(`SELECT ${COLUMNS} FROM consultations ORDER BY scheduled_at DESC, created_at DESC`),
      listForDoctor: db.prepare(
        `SELECT ${COLUMNS} FROM consultations
          WHERE doctor_id = ? AND scheduled_at >= ? AND scheduled_at < ?
          ORDER BY scheduled_at, created_at`,
      ),
      setStatus: db.prepare(
        `UPDATE consultations SET
           status = @status,
           started_at = CASE WHEN @status = 'in_progress' AND started_at IS NULL THEN @at ELSE started_at END,
           ended_at = CASE WHEN @status = 'ended' THEN @at ELSE ended_at END
         WHERE id = @id AND status <> 'ended'`,
      ),
      setEmptiedAt: db.prepare('UPDATE consultations SET emptied_at = ? WHERE id = ?'),
      setTokenHash: db.prepare("UPDATE consultations SET patient_token_hash = ? WHERE id = ? AND status <> 'ended'"),
    };
  }

  /**
   * Creates a consultation with a first patient token, returned here only (the
   * staff API does not pass it on: the doctor's browser asks for its own with
   * newPatientToken, so the clinic admin never holds a patient link).
   */
  create(i: { doctorId: string; patientName: string; scheduledAt: number; createdBy: string }): {
    consultation: Consultation;
    patientToken: string;
  } {
    const patientName = i.patientName.trim();
    if (patientName.length < 1 || patientName.length > 64) throw new RangeError('patient name must be 1–64 characters');
    if (!Number.isSafeInteger(i.scheduledAt)) throw new RangeError('scheduledAt must be a time in ms');
    const patientToken = randomBytes(32).toString('base64url');
    const createdAt = Date.now();
    const expiresAt = i.scheduledAt + LINK_VALIDITY_MS;
    for (;;) {
      const id = newConsultationId();
      try {
        this.q.insert.run(id, i.doctorId, patientName, i.scheduledAt, i.createdBy, createdAt, expiresAt, sha256(patientToken).toString('hex'));
      } catch (err) {
        // 36^16 ids: a collision is astronomically unlikely, but costs nothing to handle.
        if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') continue;
        throw err;
      }
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
   * ended consultation.
   */
  newPatientToken(id: string): string | undefined {
    const token = randomBytes(32).toString('base64url');
    const changed = this.q.setTokenHash.run(sha256(token).toString('hex'), id).changes;
    return changed === 1 ? token : undefined;
  }

  get(id: string): Consultation | undefined {
    const row = this.q.get.get(id) as ConsultationRow | undefined;
    return row && toConsultation(row);
  }

  /** All consultations, the latest scheduled first. */
  list(): Consultation[] {
    return (this.q.list.all() as ConsultationRow[]).map(toConsultation);
  }

  /** A doctor's consultations scheduled in [from, to), in time order. */
  listForDoctor(doctorId: string, from: number, to: number): Consultation[] {
    return (this.q.listForDoctor.all(doctorId, from, to) as ConsultationRow[]).map(toConsultation);
  }

  /**
   * Checks a patient link. 'invalid' for an unknown id or a wrong token (the
   * state of the consultation is only revealed to holders of its token).
   */
  verifyPatientToken(id: string, token: string, now = Date.now()): TokenVerdict {
    const row =
      typeof id === 'string' && id.length <= 64
        ? (this.q.tokenHash.get(id) as { h: string; status: ConsultationStatus; expires_at: number } | undefined)
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
   * 'in_progress' and endedAt on 'ended'; 'ended' is final (later calls
   * change nothing). Returns the consultation as it now is.
   */
  setStatus(id: string, status: ConsultationStatus, at = Date.now()): Consultation | undefined {
    if (!CONSULTATION_STATUSES.includes(status)) throw new RangeError('unknown consultation status');
    this.q.setStatus.run({ id, status, at: Math.trunc(at) });
    return this.get(id);
  }

  /**
   * Records when the consultation's room became empty (`at`, ms), or that
   * someone is in it again (`undefined`). The console's duration stops there.
   */
  setEmptiedAt(id: string, at: number | undefined): void {
    this.q.setEmptiedAt.run(at === undefined ? null : Math.trunc(at), id);
  }
}
