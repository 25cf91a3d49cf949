// Everything Confide stores survives closing and reopening the SQLite file,
// and the schema migrations are idempotent and atomic.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStores, databasePath } from '../../server/store/index.ts';
import { SessionStore } from '../../server/store/sessions.ts';
import { migrate, MIGRATIONS, openDatabase, schemaVersion, SCHEMA_VERSION } from '../../server/store/database.ts';

let dir: string;
let file: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-store-'));
  file = databasePath(path.join(dir, 'nested', 'data'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('store persistence', () => {
  it('keeps users, sessions, consultations and audit across a restart', async () => {
    const s1 = openStores(file);
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(s1.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s1.db.pragma('foreign_keys', { simple: true })).toBe(1);

    const admin = await s1.users.create({ email: 'Root@Clinic.test', name: 'Root', role: 'admin', password: 'root passphrase one' });
    const doctor = await s1.users.create({ email: 'doc@clinic.test', name: 'Dr Doc', role: 'doctor', password: 'doctor passphrase one' });
    const gone = await s1.users.create({ email: 'gone@clinic.test', name: 'Dr Gone', role: 'doctor', password: 'leaving passphrase one' });
    const goneSession = s1.sessions.create(gone.id);
    s1.users.setDisabled(gone.id, true);
    const session = s1.sessions.create(doctor.id);
    const revoked = s1.sessions.create(doctor.id);
    s1.sessions.revoke(revoked);
    const { consultation, patientToken } = s1.consultations.create({
      doctorId: doctor.id,
      patientName: 'Pat',
      scheduledAt: Date.now(),
      createdBy: admin.id,
    });
    const t0 = Date.now();
    s1.audit.record(consultation.id, 'created', `admin:${admin.id}`, t0);
    s1.audit.record(consultation.id, 'patient_waiting', 'patient', t0 + 1);
    s1.audit.record(consultation.id, 'admitted', `doctor:${doctor.id}`, t0 + 2);
    s1.consultations.setStatus(consultation.id, 'in_progress', t0 + 3);
    s1.consultations.setStatus(consultation.id, 'in_progress', t0 + 99); // startedAt stays the first
    const before = {
      users: s1.users.list(),
      consultation: s1.consultations.get(consultation.id),
      audit: s1.audit.list(consultation.id),
    };
    expect(before.consultation?.startedAt).toBe(t0 + 3);
    s1.db.close();

    const s2 = openStores(file);
    expect(schemaVersion(s2.db)).toBe(SCHEMA_VERSION);
    expect(s2.users.list()).toEqual(before.users);
    expect(s2.users.count()).toBe(3);
    expect(s2.users.count('doctor')).toBe(2);
    expect(s2.users.list('admin').map((u) => u.email)).toEqual(['root@clinic.test']);
    expect(admin.email).toBe('root@clinic.test');
    expect(await s2.users.verify('ROOT@clinic.test', 'root passphrase one')).toEqual(admin);
    expect(await s2.users.verify('doc@clinic.test', 'doctor passphrase one')).toEqual(doctor);
    expect(await s2.users.verify('doc@clinic.test', 'doctor passphrase two')).toBeUndefined();
    expect(await s2.users.verify('gone@clinic.test', 'leaving passphrase one')).toBeUndefined();
    expect(s2.sessions.resolve(session)).toEqual(doctor);
    expect(s2.sessions.resolve(revoked)).toBeUndefined();
    expect(s2.sessions.resolve(goneSession)).toBeUndefined();
    expect(s2.consultations.get(consultation.id)).toEqual(before.consultation);
    expect(s2.consultations.verifyPatientToken(consultation.id, patientToken)).toBe('ok');
    expect(s2.audit.list(consultation.id)).toEqual(before.audit);
    expect(s2.audit.list(consultation.id).map((e) => e.event)).toEqual(['created', 'patient_waiting', 'admitted']);

    // Still writable after the restart; ended is final and survives too.
    s2.consultations.setStatus(consultation.id, 'ended', t0 + 10);
    s2.audit.record(consultation.id, 'ended', `doctor:${doctor.id}`, t0 + 10);
    s2.db.close();
    const s3 = openStores(file);
    expect(s3.consultations.get(consultation.id)).toMatchObject({ status: 'ended', startedAt: t0 + 3, endedAt: t0 + 10 });
    expect(s3.consultations.verifyPatientToken(consultation.id, patientToken)).toBe('ended');
    expect(s3.audit.list(consultation.id)).toHaveLength(4);
    // Nothing secret in clear: no token, no password in the file.
    s3.db.pragma('wal_checkpoint(TRUNCATE)');
    s3.db.close();
    const raw = fs.readFileSync(file).toString('latin1');
    for (const secret of [session, patientToken, 'root passphrase one', 'doctor passphrase one']) expect(raw).not.toContain(secret);
  });

  it('migrations are idempotent, atomic, and refuse a newer schema', () => {
    const a = openDatabase(file);
    const tables = () =>
      (a.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    const before = tables();
    expect(before).toEqual(expect.arrayContaining(['audit', 'consultations', 'sessions', 'users']));
    migrate(a);
    migrate(a);
    expect(schemaVersion(a)).toBe(SCHEMA_VERSION);
    expect(tables()).toEqual(before);

    // A failing migration changes nothing, not even partly.
    expect(() => migrate(a, [...MIGRATIONS, 'CREATE TABLE half_done (x INTEGER); SELECT no_such_function();'])).toThrow();
    expect(schemaVersion(a)).toBe(SCHEMA_VERSION);
    expect(tables()).toEqual(before);

    // Several pending steps all apply, in order, each once.
    const fresh = new BetterSqlite3(':memory:');
    migrate(fresh, ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (x INTEGER)', 'ALTER TABLE b ADD COLUMN y INTEGER']);
    expect(schemaVersion(fresh)).toBe(3);
    expect(fresh.prepare("SELECT name FROM sqlite_master WHERE name IN ('a', 'b') ORDER BY name").all()).toEqual([{ name: 'a' }, { name: 'b' }]);
    migrate(fresh, ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (x INTEGER)', 'ALTER TABLE b ADD COLUMN y INTEGER']);
    expect(schemaVersion(fresh)).toBe(3);
    fresh.close();

    // A new migration applies once.
    migrate(a, [...MIGRATIONS, 'CREATE TABLE extra (x INTEGER);']);
    migrate(a, [...MIGRATIONS, 'CREATE TABLE extra (x INTEGER);']);
    expect(schemaVersion(a)).toBe(SCHEMA_VERSION + 1);
    // ...and an older server refuses the newer file rather than misreading it.
    a.close();
    expect(() => openDatabase(file)).toThrow(/newer/);
  });

  it('works in memory; sessions expire after their TTL', async () => {
    const s = openStores(':memory:');
    expect(schemaVersion(s.db)).toBe(SCHEMA_VERSION);
    expect(s.users.count()).toBe(0);
    const u = await s.users.create({ email: 'x@y.test', name: 'X', role: 'doctor', password: 'x passphrase 123' });
    const short = new SessionStore(s.db, 60_000);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const token = short.create(u.id);
      expect(short.resolve(token)).toEqual(u);
      vi.setSystemTime(Date.now() + 59_000);
      expect(short.resolve(token)).toEqual(u);
      vi.setSystemTime(Date.now() + 2_000);
      expect(short.resolve(token)).toBeUndefined();
      expect(s.db.prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 0 }); // pruned
    } finally {
      vi.useRealTimers();
      s.db.close();
    }
  });
});
