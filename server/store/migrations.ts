// The schema's one migration history, for both dialects (Kysely's schema
// builder). Append only: a released migration is never edited. Each entry is
// written once; where SQLite and PostgreSQL differ (column types, STRICT
// tables, identity columns) a small switch on the dialect says so in place.
//
// The first four entries are the history the SQLite-only server kept in
// PRAGMA user_version (1–4): database.ts baselines such files into this
// history, so their names and order must not change.
import { sql, type Kysely, type Migration, type CreateTableBuilder } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';

/** The names of the migrations the old user_version numbers 1..4 stand for, in order. */
export const LEGACY_USER_VERSIONS = ['0001_accounts', '0002_rejoin_credentials', '0003_consultation_emptied_at', '0004_enrolments'] as const;

/**
 * The migration history for `dialect`, keyed by name (Kysely runs them in
 * name order). Every migration only goes up: a rollback is a new migration.
 */
export function migrations(dialect: DialectName): Record<string, Migration> {
  const pg = dialect === 'postgres';
  /** ms since the epoch: 64-bit in PostgreSQL (INTEGER there is 32-bit). */
  const ms = pg ? 'bigint' : 'integer';
  /** SQLite's STRICT tables refuse values of the wrong type, as PostgreSQL does anyway. */
  const strict = <T extends string, C extends string>(t: CreateTableBuilder<T, C>) => (pg ? t : t.modifyEnd(sql`strict`));
  type Db = Kysely<unknown>;

  return {
    '0001_accounts': {
      async up(db: Db) {
        await strict(
          db.schema
            .createTable('users')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('email', 'text', (c) => c.notNull().unique())
            .addColumn('name', 'text', (c) => c.notNull())
            .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('admin', 'doctor')`))
            .addColumn('password_hash', 'text', (c) => c.notNull())
            .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0).check(sql`disabled IN (0, 1)`))
            .addColumn('created_at', ms, (c) => c.notNull()),
        ).execute();

        await strict(
          db.schema
            .createTable('sessions')
            .addColumn('token_hash', 'text', (c) => c.primaryKey())
            .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
            .addColumn('created_at', ms, (c) => c.notNull())
            .addColumn('expires_at', ms, (c) => c.notNull()),
        ).execute();
        await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
        await db.schema.createIndex('sessions_expiry').on('sessions').column('expires_at').execute();

        await strict(
          db.schema
            .createTable('consultations')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('doctor_id', 'text', (c) => c.notNull().references('users.id'))
            .addColumn('patient_name', 'text', (c) => c.notNull())
            .addColumn('scheduled_at', ms, (c) => c.notNull())
            .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('scheduled', 'waiting', 'in_progress', 'ended')`))
            .addColumn('created_by', 'text', (c) => c.notNull())
            .addColumn('created_at', ms, (c) => c.notNull())
            .addColumn('started_at', ms)
            .addColumn('ended_at', ms)
            .addColumn('expires_at', ms, (c) => c.notNull())
            .addColumn('patient_token_hash', 'text', (c) => c.notNull()),
        ).execute();
        await db.schema.createIndex('consultations_doctor_time').on('consultations').columns(['doctor_id', 'scheduled_at']).execute();
        await db.schema.createIndex('consultations_time').on('consultations').column('scheduled_at').execute();

        await strict(
          db.schema
            .createTable('audit')
            .addColumn('id', pg ? 'bigint' : 'integer', (c) => (pg ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement()))
            .addColumn('consultation_id', 'text', (c) => c.notNull().references('consultations.id').onDelete('cascade'))
            .addColumn('event', 'text', (c) => c.notNull())
            .addColumn('actor', 'text', (c) => c.notNull())
            .addColumn('at', ms, (c) => c.notNull()),
        ).execute();
        await db.schema.createIndex('audit_consultation').on('audit').columns(['consultation_id', 'at']).execute();
      },
    },

    // Rejoin credentials of admitted patients (only hashes are stored).
    '0002_rejoin_credentials': {
      async up(db: Db) {
        await strict(
          db.schema
            .createTable('rejoin_credentials')
            .addColumn('token_hash', 'text', (c) => c.primaryKey())
            .addColumn('consultation_id', 'text', (c) => c.notNull().references('consultations.id').onDelete('cascade'))
            .addColumn('participant_id', 'text', (c) => c.notNull())
            .addColumn('display_name', 'text', (c) => c.notNull())
            .addColumn('created_at', ms, (c) => c.notNull())
            .addColumn('expires_at', ms, (c) => c.notNull()),
        ).execute();
        await db.schema.createIndex('rejoin_credentials_consultation').on('rejoin_credentials').column('consultation_id').execute();
        await db.schema.createIndex('rejoin_credentials_expiry').on('rejoin_credentials').column('expires_at').execute();
      },
    },

    // When a consultation's room last emptied, so the console's duration stops with the call.
    '0003_consultation_emptied_at': {
      async up(db: Db) {
        await db.schema.alterTable('consultations').addColumn('emptied_at', ms).execute();
      },
    },

    // One-time enrolment links, with which staff set their own password (only hashes are stored).
    '0004_enrolments': {
      async up(db: Db) {
        await strict(
          db.schema
            .createTable('enrolments')
            .addColumn('token_hash', 'text', (c) => c.primaryKey())
            .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
            .addColumn('created_by', 'text', (c) => c.notNull())
            .addColumn('created_at', ms, (c) => c.notNull())
            .addColumn('expires_at', ms, (c) => c.notNull()),
        ).execute();
        await db.schema.createIndex('enrolments_user').on('enrolments').column('user_id').execute();
      },
    },
  };
}
