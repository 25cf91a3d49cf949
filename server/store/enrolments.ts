// Enrolment links (issue 12, item 8): how a doctor sets their own password, so
// the clinic admin who creates the account never knows it. A link carries 32
// random bytes; only their SHA-256 is stored, with the account and an expiry.
// One link per account at a time (a new one replaces it); using it consumes it.
// A password reset is another link: the account's password and sessions end
// (UserStore.clearPassword) and the new link is the only way back in.
import { randomBytes } from 'node:crypto';
import type { Database } from './database.ts';
import { sha256Hex } from './sessions.ts';

/** How long an enrolment link works: 72 h. */
export const ENROLMENT_TTL_MS = 72 * 60 * 60 * 1000;
/** base64url of 32 bytes. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface Enrolment {
  userId: string;
  /** ms since the epoch. */
  expiresAt: number;
}

export class EnrolmentStore {
  constructor(private readonly db: Database) {}

  /**
   * A new link for `userId` (made by `createdBy`, e.g. 'admin:<id>'), valid
   * for ENROLMENT_TTL_MS; earlier links of that account stop working.
   * Returns the token (never stored) and its expiry (ms).
   */
  async issue(userId: string, createdBy: string, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + ENROLMENT_TTL_MS;
    await this.db.kysely.transaction().execute(async (trx) => {
      // One link per account even when two are issued at once: on PostgreSQL the
      // account's row is locked for the transaction (SQLite runs one writer at a time anyway).
      if (this.db.dialect === 'postgres') await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
      await trx.deleteFrom('enrolments').where('expires_at', '<=', now).execute();
      await trx.deleteFrom('enrolments').where('user_id', '=', userId).execute();
      await trx
        .insertInto('enrolments')
        .values({ token_hash: sha256Hex(token), user_id: userId, created_by: createdBy, created_at: now, expires_at: expiresAt })
        .execute();
    });
    return { token, expiresAt };
  }

  /** What a well-formed, known, unexpired `token` is for; undefined otherwise. Does not consume it. */
  async peek(token: unknown, now = Date.now()): Promise<Enrolment | undefined> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return undefined;
    const row = await this.db.kysely
      .selectFrom('enrolments')
      .select(['user_id', 'expires_at'])
      .where('token_hash', '=', sha256Hex(token))
      .executeTakeFirst();
    if (!row || row.expires_at <= now) return undefined;
    return { userId: row.user_id, expiresAt: row.expires_at };
  }

  /**
   * Uses `token` up: returns what it was for and deletes it, in one statement
   * (DELETE … RETURNING: of two concurrent uses, on either dialect, only one
   * gets the row). Undefined if it is not valid.
   */
  async consume(token: unknown, now = Date.now()): Promise<Enrolment | undefined> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return undefined;
    const row = await this.db.kysely
      .deleteFrom('enrolments')
      .where('token_hash', '=', sha256Hex(token))
      .where('expires_at', '>', now)
      .returning(['user_id', 'expires_at'])
      .executeTakeFirst();
    return row && { userId: row.user_id, expiresAt: row.expires_at };
  }

  /** No link of `userId` works any more. */
  async revokeFor(userId: string): Promise<void> {
    await this.db.kysely.deleteFrom('enrolments').where('user_id', '=', userId).execute();
  }
}
