// The SQLite database (better-sqlite3): opening it and its schema migrations.
// Migrations are numbered by `PRAGMA user_version`; each runs in its own
// transaction together with the version bump, so a failed migration leaves
// the database exactly as it was.
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export type Database = BetterSqlite3.Database;

/** Schema migrations, in order: entry i brings the database to version i + 1. Append only. */
export const MIGRATIONS: readonly string[] = [
  // 1: accounts, sessions, consultations, audit trail.
  `
  CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'doctor')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX sessions_user ON sessions(user_id);
  CREATE INDEX sessions_expiry ON sessions(expires_at);

  CREATE TABLE consultations (
    id                 TEXT PRIMARY KEY,
    doctor_id          TEXT NOT NULL REFERENCES users(id),
    patient_name       TEXT NOT NULL,
    scheduled_at       INTEGER NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('scheduled', 'waiting', 'in_progress', 'ended')),
    created_by         TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    started_at         INTEGER,
    ended_at           INTEGER,
    expires_at         INTEGER NOT NULL,
    patient_token_hash TEXT NOT NULL
  ) STRICT;
  CREATE INDEX consultations_doctor_time ON consultations(doctor_id, scheduled_at);
  CREATE INDEX consultations_time ON consultations(scheduled_at);

  CREATE TABLE audit (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    consultation_id TEXT NOT NULL REFERENCES consultations(id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    actor           TEXT NOT NULL,
    at              INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX audit_consultation ON audit(consultation_id, at);
  `,
  // 2: rejoin credentials of admitted patients (only hashes are stored).
  `
  CREATE TABLE rejoin_credentials (
    token_hash      TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL REFERENCES consultations(id) ON DELETE CASCADE,
    participant_id  TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX rejoin_credentials_consultation ON rejoin_credentials(consultation_id);
  CREATE INDEX rejoin_credentials_expiry ON rejoin_credentials(expires_at);
  `,
  // 3 (staff-ui): when a consultation's room last emptied, so the console's duration stops with the call.
  `
  ALTER TABLE consultations ADD COLUMN emptied_at INTEGER;
  `,
  // 4 (hardening): one-time enrolment links, with which staff set their own password (only hashes are stored).
  `
  CREATE TABLE enrolments (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX enrolments_user ON enrolments(user_id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

function isInMemory(file: string): boolean {
  return file === ':memory:' || file === '' || file.startsWith('file::memory:');
}

/** Opens (creating if needed) the database at `file` and brings its schema up to date. `':memory:'` works. */
export function openDatabase(file: string): Database {
  const inMemory = isInMemory(file);
  if (!inMemory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const db = new BetterSqlite3(file, { timeout: 5000 });
  try {
    // Password hashes live here: owner-only. SQLite gives its -wal/-shm files the same mode.
    if (!inMemory) fs.chmodSync(file, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Runs the migrations not applied yet, each in an IMMEDIATE transaction with
 * its version bump (the version is read inside the transaction, so two
 * processes opening the same file cannot both apply a step). Idempotent.
 */
export function migrate(db: Database, migrations: readonly string[] = MIGRATIONS): void {
  const step = db.transaction((): boolean => {
    const v = schemaVersion(db);
    if (v > migrations.length) {
      throw new Error(`database schema version ${v} is newer than this server knows (${migrations.length})`);
    }
    if (v === migrations.length) return false;
    db.exec(migrations[v]!);
    db.pragma(`user_version = ${v + 1}`);
    return true;
  });
  while (step.immediate()) {
    // one migration per transaction
  }
}
