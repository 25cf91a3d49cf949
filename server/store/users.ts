// Staff accounts (clinic admins and doctors). Patients have no account.
// Rows carry a password hash; nothing returned from here ever does.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
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

const COLUMNS = ['id', 'email', 'name', 'role', 'disabled', 'created_at'] as const;

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
  /**
   * `sessions`: disabling an account ends them. `hasher`: production cost
   * unless a test passes a cheaper one (in code, never from configuration).
   */
  constructor(
    private readonly db: Database,
    private readonly sessions: SessionStore,
    readonly hasher = new PasswordHasher(),
  ) {
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
    if (await this.byEmail(email)) throw new DuplicateError('email');
    const hash = i.password === undefined ? NO_PASSWORD : await this.hasher.hash(i.password);
    const id = randomUUID();
    const createdAt = Date.now();
    const r = await this.db.kysely
      .insertInto('users')
      .values({ id, email, name, role: i.role, password_hash: hash, disabled: 0, created_at: createdAt })
      // Lost a race with another create for the same email while hashing.
      .onConflict((oc) => oc.column('email').doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) throw new DuplicateError('email');
    return { id, email, name, role: i.role, disabled: false, createdAt };
  }

  /**
   * Sets the password of account `id` (its owner's choice, through an
   * enrolment link). Throws PasswordPolicyError, or RangeError for an unknown account.
   */
  async setPassword(id: string, password: string): Promise<void> {
    const user = await this.get(id);
    if (!user) throw new RangeError('unknown account');
    assertNewPassword(password, { email: user.email, name: user.name });
    const hash = await this.hasher.hash(password);
    await this.db.kysely.updateTable('users').set({ password_hash: hash }).where('id', '=', id).execute();
  }

  /** The account keeps no usable password (a reset): nobody signs in with the old one, and its sessions end. */
  async clearPassword(id: string): Promise<void> {
    await this.db.kysely.updateTable('users').set({ password_hash: NO_PASSWORD }).where('id', '=', id).execute();
    await this.sessions.revokeAllFor(id);
  }

  /** Whether account `id` has a password set (false before enrolment or after a reset). */
  async hasPassword(id: string): Promise<boolean> {
    const row = await this.db.kysely.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirst();
    return row !== undefined && row.password_hash !== NO_PASSWORD;
  }

  async get(id: string): Promise<User | undefined> {
    const row = await this.db.kysely.selectFrom('users').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async byEmail(email: string): Promise<User | undefined> {
    const row = await this.db.kysely.selectFrom('users').select(COLUMNS).where('email', '=', normalizeEmail(email)).executeTakeFirst();
    return row && toUser(row);
  }

  /** Accounts (of `role`, or all), by name without regard to ASCII case, then age. */
  async list(role?: Role): Promise<User[]> {
    let q = this.db.kysely.selectFrom('users').select(COLUMNS);
    if (role !== undefined) q = q.where('role', '=', role);
    const rows = await q.orderBy(sql`lower(name)`).orderBy('created_at').execute();
    return rows.map(toUser);
  }

  async count(role?: Role): Promise<number> {
    let q = this.db.kysely.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'));
    if (role !== undefined) q = q.where('role', '=', role);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  /**
   * Disables (or enables) the account. Disabling also ends its sessions
   * (SessionStore.revokeAllFor tells its listeners: open sockets close).
   */
  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.db.kysely.updateTable('users').set({ disabled: disabled ? 1 : 0 }).where('id', '=', id).execute();
    if (disabled) await this.sessions.revokeAllFor(id);
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
    const row =
      email.length <= 320
        ? await this.db.kysely
            .selectFrom('users')
            .select([...COLUMNS, 'password_hash'])
            .where('email', '=', normalizeEmail(email))
            .executeTakeFirst()
        : undefined;
    if (!row) {
      await this.hasher.verifyDummy(password);
      return undefined;
    }
    const { ok, rehash } = await this.hasher.verify(password, row.password_hash);
    if (!ok || row.disabled === 1) return undefined;
    if (rehash) {
      const hash = await this.hasher.hash(password);
      // Only if nobody changed the password meanwhile (a conditional UPDATE).
      await this.db.kysely
        .updateTable('users')
        .set({ password_hash: hash })
        .where('id', '=', row.id)
        .where('password_hash', '=', row.password_hash)
        .execute();
    }
    // Re-read: the account may have been disabled while we were hashing.
    const now = await this.get(row.id);
    return now && !now.disabled ? now : undefined;
  }
}
