// Staff accounts (clinic admins and doctors). Patients have no account.
// Rows carry a password hash; nothing returned from here ever does.
import { randomUUID } from 'node:crypto';
import type { Database } from './database.ts';
import { normalizeName } from '../../shared/protocol/names.ts';
import {
  assertNewPassword,
  hashPassword,
  verifyDummyPassword,
  verifyPassword,
  warmUpDummyPassword,
} from '../auth/passwords.ts';

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

  constructor(private readonly db: Database) {
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
      dropSessions: db.prepare('DELETE FROM sessions WHERE user_id = ?'),
    };
    warmUpDummyPassword();
  }

  /**
   * Creates an account. Throws DuplicateError when the email is taken and
   * PasswordPolicyError (auth/passwords.ts) for a password that is too short.
   */
  async create(i: { email: string; name: string; role: Role; password: string }): Promise<User> {
    const email = normalizeEmail(i.email);
    const name = normalizeName(i.name, 128);
    if (email === '' || email.length > 254) throw new RangeError('email must be 1–254 characters');
    if (name === undefined) throw new RangeError('name must be a readable name of 1–128 characters');
    if (i.role !== 'admin' && i.role !== 'doctor') throw new RangeError('unknown role');
    assertNewPassword(i.password);
    if (this.byEmail(email)) throw new DuplicateError('email');
    const hash = await hashPassword(i.password);
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

  /** Disabling also signs the user out everywhere (their sessions are deleted). */
  setDisabled(id: string, disabled: boolean): void {
    this.db.transaction(() => {
      this.q.setDisabled.run(disabled ? 1 : 0, id);
      if (disabled) this.q.dropSessions.run(id);
    })();
  }

  /**
   * The account for these credentials, or undefined when the email is
   * unknown, the password wrong or the account disabled. Always spends one
   * password hash, so timing does not tell which of these it was.
   */
  async verify(email: string, password: string): Promise<User | undefined> {
    if (typeof email !== 'string' || typeof password !== 'string') return undefined;
    const row = email.length <= 320 ? (this.q.byEmailWithHash.get(normalizeEmail(email)) as UserRowWithHash | undefined) : undefined;
    if (!row) {
      await verifyDummyPassword(password);
      return undefined;
    }
    const ok = await verifyPassword(password, row.password_hash);
    if (!ok || row.disabled === 1) return undefined;
    // Re-read: the account may have been disabled while we were hashing.
    const now = this.get(row.id);
    return now && !now.disabled ? now : undefined;
  }
}
