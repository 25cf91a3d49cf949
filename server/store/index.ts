// All of Confide's persistent state, in one SQLite file.
import path from 'node:path';
import { openDatabase, type Database } from './database.ts';
import { UserStore } from './users.ts';
import { SessionStore } from './sessions.ts';
import { ConsultationStore } from './consultations.ts';
import { AuditLog } from './audit.ts';
import { RejoinCredentialStore } from './rejoin-credentials.ts';
import { EnrolmentStore } from './enrolments.ts';
import type { PasswordHasher } from '../auth/passwords.ts';

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

export interface StoreOptions {
  /** Password hashing (production cost by default; tests pass a cheaper one, in code only). */
  passwordHasher?: PasswordHasher;
}

/** Opens (creating and migrating if needed) the database at `file`; `':memory:'` for tests. */
export function openStores(file: string, opts: StoreOptions = {}): Stores {
  const db = openDatabase(file);
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
