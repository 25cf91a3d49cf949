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

/** A session that ended before its time: one (logout, a new login) or all of a user's (disabled, reset). */
export type Revocation = { kind: 'session'; tokenHash: string } | { kind: 'user'; userId: string };

/** A live session: who, until when, and the hash that names it (never the token). */
export interface ResolvedSession {
  user: User;
  tokenHash: string;
  /** ms since the epoch. */
  expiresAt: number;
}

export class SessionStore {
  private readonly q;
  private readonly listeners = new Set<(r: Revocation) => void>();

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

  /**
   * Calls `listener` whenever sessions end early (revoke, revokeAllFor), so
   * whatever they opened (signalling sockets) can close. Returns an unsubscribe function.
   */
  onRevoked(listener: (r: Revocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
    return this.resolveSession(token)?.user;
  }

  /** As resolve(), with the session's expiry and hash (for connections that must end with it). */
  resolveSession(token: string | undefined): ResolvedSession | undefined {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return undefined;
    const tokenHash = sha256Hex(token);
    const row = this.q.resolve.get(tokenHash) as SessionRow | undefined;
    if (!row) return undefined;
    if (row.expires_at <= Date.now()) {
      this.q.revoke.run(tokenHash);
      return undefined;
    }
    if (row.disabled === 1) return undefined;
    const user: User = { id: row.id, email: row.email, name: row.name, role: row.role, disabled: false, createdAt: row.created_at };
    return { user, tokenHash, expiresAt: row.expires_at };
  }

  /** Ends one session (logout, a new login of the same browser). */
  revoke(token: string | undefined): void {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return;
    const tokenHash = sha256Hex(token);
    this.q.revoke.run(tokenHash);
    this.emit({ kind: 'session', tokenHash });
  }

  /** Ends every session of `userId` (account disabled, password reset). */
  revokeAllFor(userId: string): void {
    this.q.revokeAllFor.run(userId);
    this.emit({ kind: 'user', userId });
  }

  private emit(r: Revocation): void {
    for (const l of this.listeners) {
      try {
        l(r);
      } catch {
        // a listener's failure must not stop the revocation
      }
    }
  }
}
