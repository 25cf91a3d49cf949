// Staff sign-in sessions. The cookie carries a random token; only its
// SHA-256 is stored, so a copy of the database cannot be used to sign in.
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from './database.ts';
import type { User, UserRow } from './users.ts';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** base64url of 32 bytes. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

interface SessionRow extends UserRow {
  expires_at: number;
}

export class SessionStore {
  private readonly q;

  constructor(
    db: Database,
    private readonly ttlMs = SESSION_TTL_MS,
  ) {
    this.q = {
      insert: db.prepare('INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)'),
      resolve: db.prepare(
        `SELECT s.expires_at, u.id, u.email, u.name, u.role, u.disabled, u.created_at
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_hash = ?`,
      ),
      revoke: db.prepare('DELETE FROM sessions WHERE token_hash = ?'),
      revokeAllFor: db.prepare('DELETE FROM sessions WHERE user_id = ?'),
      prune: db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
    };
  }

  /** A new session for `userId`; returns the token (to put in the cookie), never stored as such. */
  create(userId: string): string {
    const now = Date.now();
    this.q.prune.run(now);
    const token = randomBytes(32).toString('base64url');
    this.q.insert.run(sha256Hex(token), userId, now, now + this.ttlMs);
    return token;
  }

  /** The signed-in user, or undefined for a missing, malformed, unknown, expired or revoked token or a disabled user. */
  resolve(token: string | undefined): User | undefined {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return undefined;
    const row = this.q.resolve.get(sha256Hex(token)) as SessionRow | undefined;
    if (!row) return undefined;
    if (row.expires_at <= Date.now()) {
      this.q.revoke.run(sha256Hex(token));
      return undefined;
    }
    if (row.disabled === 1) return undefined;
    return {
      id: row.id,
      email: row.email,
      name: row.name,
      role: row.role,
      disabled: false,
      createdAt: row.created_at,
    };
  }

  revoke(token: string | undefined): void {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return;
    this.q.revoke.run(sha256Hex(token));
  }

  revokeAllFor(userId: string): void {
    this.q.revokeAllFor.run(userId);
  }
}
