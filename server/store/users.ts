// Staff accounts (clinic admins and doctors). Patients have no account.
// Rows carry a password hash; nothing returned from here ever does.
import { randomUUID } from 'node:crypto';
import type { Database } from './database.ts';
import type { SessionStore } from './sessions.ts';
import { normalizeName } from '../../shared/protocol/names.ts';
import { assertNewPassword, NO_PASSWORD, PasswordHasher } from '../auth/passwords.ts';

export type Role = 'admin' | 'doctor';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: number;
}

/** A unique value (e.g. an email) is already taken. */
export class DuplicateError extends Error {
  readonly code = 'duplicate';
  constructor(readonly field: string) {
    super(`${field} already in use`);
  }
}

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: number;
  created_at: number;
}

interface UserRowWithHash extends UserRow {
  password_hash: string;
}

const COLUMNS = 'id, email, name, role, disabled, created_at';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
  };
}

export class UserStore {
  private readonly q;

  /**
   * `sessions`: disabling an account ends them. `hasher`: production cost
   * unless a test passes a cheaper one (in code, never from configuration).
   */
  constructor(
    db: Database,
    private readonly sessions: SessionStore,
    readonly hasher = new PasswordHasher(),
  ) {
    this.q = {
      insert: db.prepare(
        'INSERT INTO users (id, email, name, role, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)',
      ),
      get: db.prepare(`SELECT ${COLUMNS} FROM users WHERE id = ?`),
      byEmail: db.prepare(`SELECT ${COLUMNS} FROM users WHERE email = ?`),
      byEmailWithHash: db.prepare(`SELECT ${COLUMNS}, password_hash FROM users WHERE email = ?`),
      listAll: db.prepare(`SELECT ${COLUMNS} FROM users ORDER BY name COLLATE NOCASE, created_at`),
      listRole: db.prepare(`SELECT ${COLUMNS} FROM users WHERE role = ? ORDER BY name COLLATE NOCASE, created_at`),
      countAll: db.prepare('SELECT COUNT(*) AS n FROM users'),
      countRole: db.prepare('SELECT COUNT(*) AS n FROM users WHERE role = ?'),
      setDisabled: db.prepare('UPDATE users SET disabled = ? WHERE id = ?'),
      setHash: db.prepare('UPDATE users SET password_hash = ? WHERE id = ?'),
      rehash: db.prepare('UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?'),
      hasPassword: db.prepare(`SELECT password_hash != '${NO_PASSWORD}' AS yes FROM users WHERE id = ?`),
    };
    hasher.warmUp();
  }

  /**
   * Creates an account. Without `password` it has none until its owner sets
   * one (an enrolment link: store/enrolments.ts). Throws DuplicateError when
   * the email is taken, RangeError for a malformed email or name, and
   * PasswordPolicyError (auth/password-policy.ts) for a password the policy refuses.
   */
  async create(i: { email: string; name: string; role: Role; password?: string }): Promise<User> {
    const email = normalizeEmail(i.email);
    const name = normalizeName(i.name, 128);
    if (email === '' || email.length > 254) throw new RangeError('email must be 1–254 characters');
    if (name === undefined) throw new RangeError('name must be a readable name of 1–128 characters');
    if (i.role !== 'admin' && i.role !== 'doctor') throw new RangeError('unknown role');
    if (i.password !== undefined) assertNewPassword(i.password, { email, name });
    if (this.byEmail(email)) throw new DuplicateError('email');
    const hash = i.password === undefined ? NO_PASSWORD : await this.hasher.hash(i.password);
    const id = randomUUID();
    const createdAt = Date.now();
    try {
      this.q.insert.run(id, email, name, i.role, hash, createdAt);
    } catch (err) {
      // Lost a race with another create for the same email while hashing.
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DuplicateError('email');
      throw err;
    }
    return { id, email, name, role: i.role, disabled: false, createdAt };
  }

  /**
   * Sets the password of account `id` (its owner's choice, through an
   * enrolment link). Throws PasswordPolicyError, or RangeError for an unknown account.
   */
  async setPassword(id: string, password: string): Promise<void> {
    const user = this.get(id);
    if (!user) throw new RangeError('unknown account');
    assertNewPassword(password, { email: user.email, name: user.name });
    this.q.setHash.run(await this.hasher.hash(password), id);
  }

  /** The account keeps no usable password (a reset): nobody signs in with the old one, and its sessions end. */
  clearPassword(id: string): void {
    this.q.setHash.run(NO_PASSWORD, id);
    this.sessions.revokeAllFor(id);
  }

  /** Whether account `id` has a password set (false before enrolment or after a reset). */
  hasPassword(id: string): boolean {
    return (this.q.hasPassword.get(id) as { yes: number } | undefined)?.yes === 1;
  }

  get(id: string): User | undefined {
    const row = this.q.get.get(id) as UserRow | undefined;
    return row && toUser(row);
  }

  byEmail(email: string): User | undefined {
    const row = this.q.byEmail.get(normalizeEmail(email)) as UserRow | undefined;
    return row && toUser(row);
  }

  list(role?: Role): User[] {
    const rows = (role === undefined ? this.q.listAll.all() : this.q.listRole.all(role)) as UserRow[];
    return rows.map(toUser);
  }

  count(role?: Role): number {
    const row = (role === undefined ? this.q.countAll.get() : this.q.countRole.get(role)) as { n: number };
    return row.n;
  }

  /**
   * Disables (or enables) the account. Disabling also ends its sessions
   * (SessionStore.revokeAllFor tells its listeners: open sockets close).
   */
  setDisabled(id: string, disabled: boolean): void {
    this.q.setDisabled.run(disabled ? 1 : 0, id);
    if (disabled) this.sessions.revokeAllFor(id);
  }

  /**
   * The account for these credentials, or undefined when the email is
   * unknown, the password wrong or unset, or the account disabled. Always
   * spends one password hash, so timing does not tell which of these it was.
   * A right password whose hash was made with weaker parameters than today's
   * is hashed again and stored (one more hash, after the answer is known).
   */
  async verify(email: string, password: string): Promise<User | undefined> {
    if (typeof email !== 'string' || typeof password !== 'string') return undefined;
    const row = email.length <= 320 ? (this.q.byEmailWithHash.get(normalizeEmail(email)) as UserRowWithHash | undefined) : undefined;
    if (!row) {
      await this.hasher.verifyDummy(password);
      return undefined;
    }
    const { ok, rehash } = await this.hasher.verify(password, row.password_hash);
    if (!ok || row.disabled === 1) return undefined;
    if (rehash) this.q.rehash.run(await this.hasher.hash(password), row.id, row.password_hash);
    // Re-read: the account may have been disabled while we were hashing.
    const now = this.get(row.id);
    return now && !now.disabled ? now : undefined;
  }
}
