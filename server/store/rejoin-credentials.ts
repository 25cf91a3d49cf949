// Rejoin credentials: what lets an admitted patient come back into a live
// consultation (after a reload, a long network drop or a server restart)
// without being admitted again. Random 32 bytes handed once to the admitted
// connection; only their SHA-256 is stored, bound to one consultation and one
// participant, until the patient link expires (the consultation's end makes
// them useless too: join refuses ended consultations).
import { randomBytes } from 'node:crypto';
import type { Database } from './database.ts';
import { sha256Hex } from './sessions.ts';

/** base64url of 32 bytes. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface RejoinCredential {
  consultationId: string;
  /** Stable id of this admitted participant across its rejoins. */
  participantId: string;
  displayName: string;
  expiresAt: number;
}

interface Row {
  consultation_id: string;
  participant_id: string;
  display_name: string;
  expires_at: number;
}

export class RejoinCredentialStore {
  private readonly q;

  constructor(db: Database) {
    this.q = {
      insert: db.prepare(
        `INSERT INTO rejoin_credentials (token_hash, consultation_id, participant_id, display_name, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      get: db.prepare(
        'SELECT consultation_id, participant_id, display_name, expires_at FROM rejoin_credentials WHERE token_hash = ?',
      ),
      revokeConsultation: db.prepare('DELETE FROM rejoin_credentials WHERE consultation_id = ?'),
      revokeParticipant: db.prepare('DELETE FROM rejoin_credentials WHERE consultation_id = ? AND participant_id = ?'),
      participants: db.prepare('SELECT DISTINCT participant_id AS p FROM rejoin_credentials WHERE consultation_id = ? AND expires_at > ?'),
      prune: db.prepare('DELETE FROM rejoin_credentials WHERE expires_at <= ?'),
    };
  }

  /**
   * Issues a credential for `participantId` in `consultationId`, valid until
   * `expiresAt` (ms since epoch). Returns the token, which is never stored.
   */
  issue(i: { consultationId: string; participantId: string; displayName: string; expiresAt: number }, now = Date.now()): string {
    const token = randomBytes(32).toString('base64url');
    this.q.insert.run(sha256Hex(token), i.consultationId, i.participantId, i.displayName, now, Math.trunc(i.expiresAt));
    return token;
  }

  /** The credential `token` names, if it exists, is well-formed and has not expired. */
  verify(token: unknown, now = Date.now()): RejoinCredential | undefined {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return undefined;
    const row = this.q.get.get(sha256Hex(token)) as Row | undefined;
    if (!row || row.expires_at <= now) return undefined;
    return {
      consultationId: row.consultation_id,
      participantId: row.participant_id,
      displayName: row.display_name,
      expiresAt: row.expires_at,
    };
  }

  /** The participants of `consultationId` who hold a live credential (they may come back). */
  participants(consultationId: string, now = Date.now()): string[] {
    return (this.q.participants.all(consultationId, now) as { p: string }[]).map((r) => r.p);
  }

  /** A participant's place went to another device: its older credentials stop working. */
  revokeParticipant(consultationId: string, participantId: string): void {
    this.q.revokeParticipant.run(consultationId, participantId);
  }

  /** Once a consultation ends, nobody comes back into it. */
  revokeConsultation(consultationId: string): void {
    this.q.revokeConsultation.run(consultationId);
  }

  /** Deletes expired credentials; returns how many. */
  prune(now = Date.now()): number {
    return this.q.prune.run(now).changes;
  }
}
