// What only the SQLite dialect has: its file (created with its folders,
// owner-only, WAL, foreign keys on, no secret in clear), and the files made
// before Kysely, whose PRAGMA user_version history is baselined into the
// migration history with their data. (The behaviour both dialects share is
// tested on both in store.test.ts.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStores, databasePath } from '../../server/store/index.ts';
import { appliedMigrations, openDatabase, type Database } from '../../server/store/database.ts';
import { LEGACY_USER_VERSIONS, migrations } from '../../server/store/migrations.ts';
import { FAST_HASHER } from '../e2e/support/server.ts';
import { createLegacySqlite } from '../support/legacy-sqlite.ts';

let dir: string;
let n = 0;
const newFile = () => path.join(dir, `legacy-${++n}.sqlite`);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-store-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Each table's columns (name, type, not null, default, primary key), indexes and foreign keys, as SQLite reports them. */
async function shape(db: Database): Promise<unknown> {
  const q = async <T,>(text: string) => (await sql<T>`${sql.raw(text)}`.execute(db.kysely)).rows;
  const names = (await q<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'kysely%' AND name NOT LIKE 'sqlite%' ORDER BY name")).map((r) => r.name);
  const out: Record<string, unknown> = {};
  for (const t of names) {
    out[t] = {
      columns: (await q<Record<string, unknown>>(`PRAGMA table_info(${t})`)).map((c) => ({ ...c, type: String(c.type).toUpperCase() })),
      indexes: (await q<{ name: string; unique: number }>(`PRAGMA index_list(${t})`)).map((i) => ({ name: i.name.startsWith('sqlite_autoindex') ? 'auto' : i.name, unique: i.unique })).sort((a, b) => a.name.localeCompare(b.name)),
      foreignKeys: (await q<Record<string, unknown>>(`PRAGMA foreign_key_list(${t})`)).map(({ id: _id, seq: _seq, ...fk }) => fk),
      strict: ((await q<{ strict: number }>(`SELECT strict FROM pragma_table_list WHERE name = '${t}'`))[0]?.strict ?? 0) === 1,
    };
  }
  return out;
}

describe('SQLite file', () => {
  it('is created with its folders, owner-only, in WAL mode with foreign keys on, and holds no secret in clear', async () => {
    const file = databasePath(path.join(dir, 'nested', 'data'));
    const s = await openStores(file, { passwordHasher: FAST_HASHER });
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect((await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(s.db.kysely)).rows[0]?.journal_mode).toBe('wal');
    expect((await sql<{ foreign_keys: number }>`PRAGMA foreign_keys`.execute(s.db.kysely)).rows[0]?.foreign_keys).toBe(1);
    const doctor = await s.users.create({ email: 'doc@clinic.test', name: 'Dr Doc', role: 'doctor', password: 'doctor passphrase one' });
    const session = await s.sessions.create(doctor.id);
    const { consultation, patientToken } = await s.consultations.create({ doctorId: doctor.id, patientName: 'Pat', scheduledAt: Date.now(), createdBy: 'admin:x' });
    const rejoin = await s.rejoinCredentials.issue({ consultationId: consultation.id, participantId: 'p', displayName: 'Pat', expiresAt: Date.now() + 60_000 });
    const { token: enrolment } = await s.enrolments.issue(doctor.id, 'admin:x');
    // A consultation of an unknown doctor is refused (foreign keys are on).
    await expect(s.consultations.create({ doctorId: 'nobody', patientName: 'P', scheduledAt: Date.now(), createdBy: 'admin:x' })).rejects.toThrow(/FOREIGN KEY/);
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(s.db.kysely);
    await s.db.close();
    const raw = fs.readFileSync(file).toString('latin1');
    for (const secret of [session, patientToken, rejoin, enrolment, 'doctor passphrase one']) expect(raw).not.toContain(secret);
  });

  it('works in memory', async () => {
    const s = await openStores(':memory:');
    expect(await s.users.count()).toBe(0);
    expect(await appliedMigrations(s.db)).toEqual(Object.keys(migrations('sqlite')));
    await s.db.close();
  });
});

describe('a SQLite file made before Kysely (PRAGMA user_version)', () => {
  it('is baselined at version 4: its data stays, nothing is re-run, and its schema is the one the history makes', async () => {
    const file = newFile();
    const old = createLegacySqlite(file);
    const t0 = Date.now();
    // Rows as the old code wrote them (its own SQL).
    old.prepare('INSERT INTO users (id, email, name, role, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)').run('u1', 'doc@clinic.test', 'Dr Old', 'doctor', '!', t0);
    old.prepare(
      `INSERT INTO consultations (id, doctor_id, patient_name, scheduled_at, status, created_by, created_at, started_at, expires_at, patient_token_hash, emptied_at)
       VALUES ('abcdefghijklmnop', 'u1', 'Pat', ?, 'in_progress', 'admin:a', ?, ?, ?, ?, ?)`,
    ).run(t0, t0, t0 + 5, t0 + 86_400_000, 'ab'.repeat(32), t0 + 9);
    old.prepare("INSERT INTO audit (consultation_id, event, actor, at) VALUES ('abcdefghijklmnop', 'created', 'admin:a', ?)").run(t0);
    old.prepare("INSERT INTO enrolments (token_hash, user_id, created_by, created_at, expires_at) VALUES ('h', 'u1', 'admin:a', ?, ?)").run(t0, t0 + 1000);
    old.close();

    const s = await openStores(file, { passwordHasher: FAST_HASHER });
    expect(await appliedMigrations(s.db)).toEqual([...LEGACY_USER_VERSIONS]);
    expect(await s.users.get('u1')).toEqual({ id: 'u1', email: 'doc@clinic.test', name: 'Dr Old', role: 'doctor', disabled: false, createdAt: t0 });
    expect(await s.consultations.get('abcdefghijklmnop')).toMatchObject({ status: 'in_progress', startedAt: t0 + 5, emptiedAt: t0 + 9 });
    expect(await s.audit.list('abcdefghijklmnop')).toEqual([{ at: t0, event: 'created', actor: 'admin:a' }]);
    // Writable through the new code, and a second open changes nothing.
    await s.audit.record('abcdefghijklmnop', 'ended', 'system', t0 + 20);
    const { token } = await s.enrolments.issue('u1', 'admin:a');
    expect(await s.enrolments.consume(token)).toMatchObject({ userId: 'u1' });
    const legacyShape = await shape(s.db);
    await s.db.close();
    const again = await openDatabase({ dialect: 'sqlite', file });
    expect(await appliedMigrations(again)).toEqual([...LEGACY_USER_VERSIONS]);
    await again.close();

    // The history, run from scratch, makes the same tables, columns, indexes and keys.
    const fresh = await openDatabase({ dialect: 'sqlite', file: newFile() });
    expect(await shape(fresh)).toEqual(legacyShape);
    await fresh.close();
  });

  it('at an earlier version, runs only the migrations it lacked', async () => {
    const file = newFile();
    const old = createLegacySqlite(file, 2);
    old.prepare("INSERT INTO users (id, email, name, role, password_hash, disabled, created_at) VALUES ('u1', 'a@b.c', 'A', 'admin', '!', 0, 1)").run();
    old.close();
    const s = await openStores(file);
    expect(await appliedMigrations(s.db)).toEqual([...LEGACY_USER_VERSIONS]);
    expect(await s.users.count()).toBe(1);
    // 3 and 4 really ran: emptied_at and enrolments exist now.
    const d = await s.users.create({ email: 'd@b.c', name: 'D', role: 'doctor' });
    const { consultation } = await s.consultations.create({ doctorId: d.id, patientName: 'P', scheduledAt: 5, createdBy: 'admin:u1' });
    await s.consultations.setEmptiedAt(consultation.id, 7);
    expect((await s.consultations.get(consultation.id))?.emptiedAt).toBe(7);
    expect(await s.enrolments.issue(d.id, 'admin:u1')).toMatchObject({ token: expect.any(String) });
    await s.db.close();
  });

  it('from a version this server never knew, is refused and left as it was', async () => {
    const file = newFile();
    createLegacySqlite(file, 9).close();
    await expect(openStores(file)).rejects.toThrow(/newer than this server knows/);
    const raw = new BetterSqlite3(file);
    expect(raw.pragma('user_version', { simple: true })).toBe(9);
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'kysely%'").all()).toEqual([]);
    raw.close();
  });
});
