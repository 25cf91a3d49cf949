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

export class RejoinCredentialStore {
  constructor(private readonly db: Database) {}

  /**
   * Issues a credential for `participantId` in `consultationId`, valid until
   * `expiresAt` (ms since epoch). Returns the token, which is never stored.
   */
  async issue(i: { consultationId: string; participantId: string; displayName: string; expiresAt: number }, now = Date.now()): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.db.kysely
      .insertInto('rejoin_credentials')
      .values({
        token_hash: sha256Hex(token),
        consultation_id: i.consultationId,
        participant_id: i.participantId,
        display_name: i.displayName,
        created_at: now,
        expires_at: Math.trunc(i.expiresAt),
      })
      .execute();
    return token;
  }

  /** The credential `token` names, if it exists, is well-formed and has not expired. */
  async verify(token: unknown, now = Date.now()): Promise<RejoinCredential | undefined> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return undefined;
    const row = await this.db.kysely
      .selectFrom('rejoin_credentials')
      .select(['consultation_id', 'participant_id', 'display_name', 'expires_at'])
      .where('token_hash', '=', sha256Hex(token))
      .executeTakeFirst();
    if (!row || row.expires_at <= now) return undefined;
    return {
      consultationId: row.consultation_id,
      participantId: row.participant_id,
      displayName: row.display_name,
      expiresAt: row.expires_at,
    };
  }

  /** The participants of `consultationId` who hold a live credential (they may come back). */
  async participants(consultationId: string, now = Date.now()): Promise<string[]> {
    const rows = await this.db.kysely
      .selectFrom('rejoin_credentials')
      .select('participant_id')
      .distinct()
      .where('consultation_id', '=', consultationId)
      .where('expires_at', '>', now)
      .execute();
    return rows.map((r) => r.participant_id);
  }

  /** A participant's place went to another device: its older credentials stop working. */
  async revokeParticipant(consultationId: string, participantId: string): Promise<void> {
    await this.db.kysely
      .deleteFrom('rejoin_credentials')
      .where('consultation_id', '=', consultationId)
      .where('participant_id', '=', participantId)
      .execute();
  }

  /**
   * Revokes the credentials of every participant of `consultationId` except
   * those in `keep` (one DELETE, so a credential issued meanwhile to someone
   * kept is untouched). Returns how many credentials went.
   */
  async revokeOthers(consultationId: string, keep: readonly string[]): Promise<number> {
    let q = this.db.kysely.deleteFrom('rejoin_credentials').where('consultation_id', '=', consultationId);
    if (keep.length > 0) q = q.where('participant_id', 'not in', keep);
    return Number((await q.executeTakeFirst()).numDeletedRows);
  }

  /** Once a consultation ends, nobody comes back into it. */
  async revokeConsultation(consultationId: string): Promise<void> {
    await this.db.kysely.deleteFrom('rejoin_credentials').where('consultation_id', '=', consultationId).execute();
  }

  /** Deletes expired credentials; returns how many. */
  async prune(now = Date.now()): Promise<number> {
    const r = await this.db.kysely.deleteFrom('rejoin_credentials').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
