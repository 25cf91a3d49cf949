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
  private readonly listeners = new Set<(r: Revocation) => void>();

  /** `ttlMs`: how long a session lasts (ms). */
  constructor(
    private readonly db: Database,
    private readonly ttlMs = SESSION_TTL_MS,
  ) {}

  /**
   * Calls `listener` whenever sessions end early (revoke, revokeAllFor), so
   * whatever they opened (signalling sockets) can close. Returns an unsubscribe function.
   */
  onRevoked(listener: (r: Revocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new session for `userId`; returns the token (to put in the cookie), never stored as such. */
  async create(userId: string): Promise<string> {
    const now = Date.now();
    await this.db.kysely.deleteFrom('sessions').where('expires_at', '<=', now).execute();
    const token = randomBytes(32).toString('base64url');
    await this.db.kysely
      .insertInto('sessions')
      .values({ token_hash: sha256Hex(token), user_id: userId, created_at: now, expires_at: now + this.ttlMs })
      .execute();
    return token;
  }

  /** The signed-in user, or undefined for a missing, malformed, unknown, expired or revoked token or a disabled user. */
  async resolve(token: string | undefined): Promise<User | undefined> {
    return (await this.resolveSession(token))?.user;
  }

  /** As resolve(), with the session's expiry and hash (for connections that must end with it). */
  async resolveSession(token: string | undefined): Promise<ResolvedSession | undefined> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return undefined;
    return this.resolveSessionByHash(sha256Hex(token));
  }

  /**
   * As resolveSession(), from the token's SHA-256 (hex), which is all a
   * signalling connection keeps (and all a staff ticket of several nodes
   * carries): the token itself never leaves the cookie.
   */
  async resolveSessionByHash(tokenHash: string): Promise<ResolvedSession | undefined> {
    if (!/^[0-9a-f]{64}$/.test(tokenHash)) return undefined;
    const row: (UserRow & { expires_at: number }) | undefined = await this.db.kysely
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['s.expires_at', 'u.id', 'u.email', 'u.name', 'u.role', 'u.disabled', 'u.created_at'])
      .where('s.token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.expires_at <= Date.now()) {
      await this.db.kysely.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
      return undefined;
    }
    if (row.disabled === 1) return undefined;
    const user: User = { id: row.id, email: row.email, name: row.name, role: row.role, disabled: false, createdAt: row.created_at };
    return { user, tokenHash, expiresAt: row.expires_at };
  }

  /** Ends one session (logout, a new login of the same browser). */
  async revoke(token: string | undefined): Promise<void> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return;
    const tokenHash = sha256Hex(token);
    await this.db.kysely.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
    this.emit({ kind: 'session', tokenHash });
  }

  /** Ends every session of `userId` (account disabled, password reset). */
  async revokeAllFor(userId: string): Promise<void> {
    await this.db.kysely.deleteFrom('sessions').where('user_id', '=', userId).execute();
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
