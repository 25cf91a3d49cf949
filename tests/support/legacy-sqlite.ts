// A SQLite file as the server made it before Kysely (schema versions in
// PRAGMA user_version, issue 16): the frozen SQL of those four migrations,
// verbatim from that code, to check that such files are baselined into the
// migration history with their data. Never edited: it is history.
import BetterSqlite3 from 'better-sqlite3';

const LEGACY_MIGRATIONS: readonly string[] = [
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

/** The last schema version of that era. */
export const LEGACY_VERSION = LEGACY_MIGRATIONS.length;

/**
 * Creates `file` as the old server would have left it at `version` (1..4), or
 * with a user_version past what it knew (`version` > 4: its SQL stops at 4).
 * Returns the open handle (better-sqlite3) for the caller to fill and close.
 */
export function createLegacySqlite(file: string, version = LEGACY_VERSION): BetterSqlite3.Database {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  for (const sql of LEGACY_MIGRATIONS.slice(0, version)) db.exec(sql);
  db.pragma(`user_version = ${version}`);
  return db;
}
