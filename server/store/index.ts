// All of Confide's persistent state, in one database: a SQLite file by
// default, or PostgreSQL (CONFIDE_DATABASE_URL). See database.ts.
import path from 'node:path';
import { openDatabase, type Database, type DatabaseTarget, type OpenOptions } from './database.ts';
import { UserStore } from './users.ts';
import { SessionStore } from './sessions.ts';
import { ConsultationStore } from './consultations.ts';
import { AuditLog } from './audit.ts';
import { RejoinCredentialStore } from './rejoin-credentials.ts';
import { EnrolmentStore } from './enrolments.ts';
import type { PasswordHasher } from '../auth/passwords.ts';

export { databaseTarget, type DatabaseTarget } from './database.ts';

export interface Stores {
  db: Database;
  users: UserStore;
  sessions: SessionStore;
  consultations: ConsultationStore;
  audit: AuditLog;
  rejoinCredentials: RejoinCredentialStore;
  enrolments: EnrolmentStore;
}

export const DATABASE_FILE = 'confide.sqlite';

/** `<dataDir>/confide.sqlite`. */
export function databasePath(dataDir: string): string {
  return path.join(dataDir, DATABASE_FILE);
}

export interface StoreOptions extends OpenOptions {
  /** Password hashing (production cost by default; tests pass a cheaper one, in code only). */
  passwordHasher?: PasswordHasher;
}

/**
 * Opens (creating and migrating if needed) the database: a SQLite file path
 * (`':memory:'` for tests) or a target from databaseTarget(). Throws what
 * openDatabase throws (a failed migration, an unreachable PostgreSQL).
 */
export async function openStores(target: string | DatabaseTarget, opts: StoreOptions = {}): Promise<Stores> {
  const db = await openDatabase(typeof target === 'string' ? { dialect: 'sqlite', file: target } : target, opts);
  const sessions = new SessionStore(db);
  return {
    db,
    users: new UserStore(db, sessions, opts.passwordHasher),
    sessions,
    consultations: new ConsultationStore(db),
    audit: new AuditLog(db),
    rejoinCredentials: new RejoinCredentialStore(db),
    enrolments: new EnrolmentStore(db),
  };
}
