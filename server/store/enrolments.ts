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
  private readonly q;

  constructor(private readonly db: Database) {
    this.q = {
      insert: db.prepare('INSERT INTO enrolments (token_hash, user_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      get: db.prepare('SELECT user_id, expires_at FROM enrolments WHERE token_hash = ?'),
      remove: db.prepare('DELETE FROM enrolments WHERE token_hash = ?'),
      removeFor: db.prepare('DELETE FROM enrolments WHERE user_id = ?'),
      prune: db.prepare('DELETE FROM enrolments WHERE expires_at <= ?'),
    };
  }

  /**
   * A new link for `userId` (made by `createdBy`, e.g. 'admin:<id>'), valid
   * for ENROLMENT_TTL_MS; earlier links of that account stop working.
   * Returns the token (never stored) and its expiry.
   */
  issue(userId: string, createdBy: string, now = Date.now()): { token: string; expiresAt: number } {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + ENROLMENT_TTL_MS;
    this.db.transaction(() => {
      this.q.prune.run(now);
      this.q.removeFor.run(userId);
      this.q.insert.run(sha256Hex(token), userId, createdBy, now, expiresAt);
    })();
    return { token, expiresAt };
  }

  /** What a well-formed, known, unexpired `token` is for; undefined otherwise. Does not consume it. */
  peek(token: unknown, now = Date.now()): Enrolment | undefined {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return undefined;
    const row = this.q.get.get(sha256Hex(token)) as { user_id: string; expires_at: number } | undefined;
    if (!row || row.expires_at <= now) return undefined;
    return { userId: row.user_id, expiresAt: row.expires_at };
  }

  /**
   * Uses `token` up: returns what it was for and deletes it, in one step (two
   * concurrent uses cannot both succeed). Undefined if it is not valid.
   */
  consume(token: unknown, now = Date.now()): Enrolment | undefined {
    return this.db.transaction(() => {
      const e = this.peek(token, now);
      if (e) this.q.remove.run(sha256Hex(token as string));
      return e;
    })();
  }

  /** No link of `userId` works any more. */
  revokeFor(userId: string): void {
    this.q.removeFor.run(userId);
  }
}
