// The database: SQLite (better-sqlite3, the embedded default) or PostgreSQL
// (pg), both through Kysely, with one schema and one migration history
// (migrations.ts). Opening one brings its schema up to date.
//
// SQLite files made before Kysely kept their schema version in PRAGMA
// user_version (1–4); they are baselined into the history on first open
// (their migrations are recorded as applied, nothing is re-run).
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, sql, PostgresDialect, SqliteAdapter, SqliteDialect, type DialectAdapter, type Migration, type MigrationProvider } from 'kysely';
import type { Schema } from './schema.ts';
import { LEGACY_USER_VERSIONS, migrations as history, type DialectName } from './migrations.ts';

export type { DialectName } from './migrations.ts';

/** Where the data lives: a SQLite file (`':memory:'` for tests) or a PostgreSQL URL. */
export type DatabaseTarget = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

/** An open database: Kysely over one of the two dialects. */
export class Database {
  constructor(
    readonly kysely: Kysely<Schema>,
    readonly dialect: DialectName,
  ) {}

  /** Closes the SQLite file or ends the PostgreSQL pool (waits for queries under way). */
  close(): Promise<void> {
    return this.kysely.destroy();
  }
}

/**
 * The target for this configuration: PostgreSQL when `databaseUrl`
 * (CONFIDE_DATABASE_URL, `postgres://` or `postgresql://`) is set, else
 * SQLite at `<dataDir>/confide.sqlite`. Throws RangeError for another scheme.
 */
export function databaseTarget(dataDir: string, databaseUrl?: string): DatabaseTarget {
  if (databaseUrl === undefined || databaseUrl === '') return { dialect: 'sqlite', file: path.resolve(dataDir, 'confide.sqlite') };
  if (!/^postgres(?:ql)?:\/\//i.test(databaseUrl)) {
    // The URL may hold a password: never echo it.
    throw new RangeError('CONFIDE_DATABASE_URL must be a postgres:// (or postgresql://) URL');
  }
  return { dialect: 'postgres', url: databaseUrl };
}

export interface OpenOptions {
  /** PostgreSQL only: an idle pooled connection failed (it is dropped; the next query opens another). */
  onPoolError?: (err: Error) => void;
  /** PostgreSQL only: connections in the pool (default 10). */
  poolSize?: number;
}

function isInMemory(file: string): boolean {
  return file === ':memory:' || file === '' || file.startsWith('file::memory:');
}

const PG_INT8 = 20;

/** BIGINT (ms times, counts, audit ids) as a JS number; pg returns strings by default, for values past 2^53. */
function parseInt8(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError('a BIGINT from the database is past 2^53');
  return n;
}

/**
 * SQLite's DDL is transactional, but Kysely's adapter says otherwise (and so
 * would run migrations outside a transaction): a failed migration must leave
 * the file as it was, so this one says yes.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ConfideSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

function openSqlite(file: string): Database {
  const inMemory = isInMemory(file);
  if (!inMemory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const raw = new BetterSqlite3(file, { timeout: 5000 });
  try {
    // Password hashes live here: owner-only. SQLite gives its -wal/-shm files the same mode.
    if (!inMemory) fs.chmodSync(file, 0o600);
    raw.pragma('journal_mode = WAL');
    raw.pragma('foreign_keys = ON');
    raw.pragma('synchronous = NORMAL');
  } catch (err) {
    raw.close();
    throw err;
  }
  return new Database(new Kysely<Schema>({ dialect: new ConfideSqliteDialect({ database: raw }) }), 'sqlite');
}

function openPostgres(url: string, opts: OpenOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    application_name: 'confide',
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === PG_INT8 ? parseInt8 : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
  });
  // Without a listener an idle connection's error would end the process.
  pool.on('error', (err) => opts.onPoolError?.(err));
  return new Database(new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
}

/**
 * Opens (creating if needed) the database and brings its schema up to date.
 * Throws if a migration fails (nothing of that migration stays: each runs in
 * a transaction) or if the database holds migrations this server does not know.
 */
export async function openDatabase(target: DatabaseTarget, opts: OpenOptions = {}): Promise<Database> {
  const db = target.dialect === 'sqlite' ? openSqlite(target.file) : openPostgres(target.url, opts);
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

class Provider implements MigrationProvider {
  constructor(private readonly m: Record<string, Migration>) {}
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(this.m);
  }
}

async function run(db: Database, provider: MigrationProvider, to?: string): Promise<void> {
  const migrator = new Migrator({ db: db.kysely, provider });
  const { error, results } = to === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(to);
  if (error !== undefined) {
    if (error instanceof Error && /previously executed migration .* is missing/.test(error.message)) {
      throw new Error(`the database holds migrations this server does not know (made by a newer version?): ${error.message}`);
    }
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(failed ? `database migration ${failed} failed: ${why}` : `could not migrate the database: ${why}`);
  }
}

/**
 * A SQLite file of the user_version era: records its `user_version` first
 * migrations as applied (no-ops standing in for them), once. Throws for a
 * version this server does not know.
 */
async function baselineLegacySqlite(db: Database): Promise<void> {
  const tables = await db.kysely.introspection.getTables({ withInternalKyselyTables: true });
  if (tables.some((t) => t.name === 'kysely_migration')) return;
  const { rows } = await sql<{ user_version: number }>`PRAGMA user_version`.execute(db.kysely);
  const version = rows[0]?.user_version ?? 0;
  if (version === 0) return;
  if (version > LEGACY_USER_VERSIONS.length) {
    throw new Error(`database schema version ${version} is newer than this server knows (${LEGACY_USER_VERSIONS.length})`);
  }
  const applied = Object.fromEntries(LEGACY_USER_VERSIONS.slice(0, version).map((name) => [name, { up: async () => {} }]));
  await run(db, new Provider(applied), LEGACY_USER_VERSIONS[version - 1]);
}

/**
 * Runs the migrations of `list` (the schema's history unless a test passes
 * another) not applied yet: Kysely's Migrator, under its lock, each migration
 * in a transaction (DDL is transactional in both dialects). Idempotent.
 */
export async function migrate(db: Database, list: Record<string, Migration> = history(db.dialect)): Promise<void> {
  if (db.dialect === 'sqlite') await baselineLegacySqlite(db);
  await run(db, new Provider(list));
}

/** The names of the migrations applied to `db`, in order (for tests and ops). */
export async function appliedMigrations(db: Database): Promise<string[]> {
  const migrator = new Migrator({ db: db.kysely, provider: new Provider(history(db.dialect)) });
  return (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name);
}
