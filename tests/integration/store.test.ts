// The stores, the same tests on both dialects: SQLite (a temporary file) and
// a real PostgreSQL 15 (tests/support/postgres.ts starts one on a loopback
// port for this file, and stops it). What must hold on both: data survives a
// reopen, migrations are idempotent and atomic, ms times come back as numbers,
// and every check-then-act (single-use links, unique emails, one link per
// account, final states) stays atomic under concurrent calls.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStores, type Stores } from '../../server/store/index.ts';
import { appliedMigrations, migrate, openDatabase, type DatabaseTarget, type DialectName } from '../../server/store/database.ts';
import { migrations } from '../../server/store/migrations.ts';
import { SessionStore } from '../../server/store/sessions.ts';
import { DuplicateError } from '../../server/store/users.ts';
import { FAST_HASHER } from '../e2e/support/server.ts';
import { startPostgres, type RunningPostgres } from '../support/postgres.ts';

const DIALECTS: DialectName[] = ['sqlite', 'postgres'];

let dir: string;
let pg: RunningPostgres | undefined;
let fresh = 0;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-store-'));
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** An empty database of `dialect`: a new SQLite file, or a new PostgreSQL database. */
async function newTarget(dialect: DialectName): Promise<DatabaseTarget> {
  if (dialect === 'sqlite') return { dialect, file: path.join(dir, `store-${++fresh}.sqlite`) };
  return { dialect, url: await pg!.createDatabase() };
}

const open = (target: DatabaseTarget) => openStores(target, { passwordHasher: FAST_HASHER });

async function tables(s: Stores): Promise<string[]> {
  return (await s.db.kysely.introspection.getTables()).map((t) => t.name).sort();
}

describe.each(DIALECTS)('store on %s', (dialect) => {
  it('keeps users, sessions, consultations and audit across a reopen', async () => {
    const target = await newTarget(dialect);
    const s1 = await open(target);
    const admin = await s1.users.create({ email: 'Root@Clinic.test', name: 'Root', role: 'admin', password: 'root passphrase one' });
    const doctor = await s1.users.create({ email: 'doc@clinic.test', name: 'Dr Doc', role: 'doctor', password: 'doctor passphrase one' });
    const gone = await s1.users.create({ email: 'gone@clinic.test', name: 'Dr Gone', role: 'doctor', password: 'leaving passphrase one' });
    const goneSession = await s1.sessions.create(gone.id);
    await s1.users.setDisabled(gone.id, true);
    const session = await s1.sessions.create(doctor.id);
    const revoked = await s1.sessions.create(doctor.id);
    await s1.sessions.revoke(revoked);
    const { consultation, patientToken } = await s1.consultations.create({
      doctorId: doctor.id,
      patientName: 'Pat',
      scheduledAt: Date.now(),
      createdBy: admin.id,
    });
    const t0 = Date.now();
    await s1.audit.record(consultation.id, 'created', `admin:${admin.id}`, t0);
    await s1.audit.record(consultation.id, 'patient_waiting', 'patient', t0 + 1);
    await s1.audit.record(consultation.id, 'admitted', `doctor:${doctor.id}`, t0 + 2);
    await s1.consultations.setStatus(consultation.id, 'in_progress', t0 + 3);
    await s1.consultations.setStatus(consultation.id, 'in_progress', t0 + 99); // startedAt stays the first
    await s1.consultations.setEmptiedAt(consultation.id, t0 + 50);
    const before = {
      users: await s1.users.list(),
      consultation: await s1.consultations.get(consultation.id),
      audit: await s1.audit.list(consultation.id),
    };
    expect(before.consultation).toMatchObject({ startedAt: t0 + 3, emptiedAt: t0 + 50 });
    await s1.db.close();

    const s2 = await open(target);
    expect(await s2.users.list()).toEqual(before.users);
    expect(await s2.users.count()).toBe(3);
    expect(await s2.users.count('doctor')).toBe(2);
    expect((await s2.users.list('admin')).map((u) => u.email)).toEqual(['root@clinic.test']);
    expect(await s2.users.verify('ROOT@clinic.test', 'root passphrase one')).toEqual(admin);
    expect(await s2.users.verify('doc@clinic.test', 'doctor passphrase one')).toEqual(doctor);
    expect(await s2.users.verify('doc@clinic.test', 'doctor passphrase two')).toBeUndefined();
    expect(await s2.users.verify('gone@clinic.test', 'leaving passphrase one')).toBeUndefined();
    expect(await s2.sessions.resolve(session)).toEqual(doctor);
    expect(await s2.sessions.resolve(revoked)).toBeUndefined();
    expect(await s2.sessions.resolve(goneSession)).toBeUndefined();
    expect(await s2.consultations.get(consultation.id)).toEqual(before.consultation);
    expect(await s2.consultations.verifyPatientToken(consultation.id, patientToken)).toBe('ok');
    expect(await s2.audit.list(consultation.id)).toEqual(before.audit);
    expect((await s2.audit.list(consultation.id)).map((e) => e.event)).toEqual(['created', 'patient_waiting', 'admitted']);

    // Still writable after the reopen; ended is final and survives too.
    await s2.consultations.setStatus(consultation.id, 'ended', t0 + 10);
    await s2.audit.record(consultation.id, 'ended', `doctor:${doctor.id}`, t0 + 10);
    await s2.consultations.setEmptiedAt(consultation.id, undefined);
    await s2.db.close();
    const s3 = await open(target);
    const after = await s3.consultations.get(consultation.id);
    expect(after).toMatchObject({ status: 'ended', startedAt: t0 + 3, endedAt: t0 + 10 });
    expect(after).not.toHaveProperty('emptiedAt');
    expect(await s3.consultations.verifyPatientToken(consultation.id, patientToken)).toBe('ended');
    expect(await s3.audit.list(consultation.id)).toHaveLength(4);
    await s3.db.close();
  });

  it('migrations apply once, are idempotent and atomic, and a newer database is refused', async () => {
    const target = await newTarget(dialect);
    const db = await openDatabase(target);
    const names = Object.keys(migrations(dialect));
    try {
      expect(await appliedMigrations(db)).toEqual(names);
      const before = (await db.kysely.introspection.getTables()).map((t) => t.name).sort();
      expect(before).toEqual(['audit', 'consultations', 'enrolments', 'rejoin_credentials', 'sessions', 'users']);
      await migrate(db);
      await migrate(db);
      expect(await appliedMigrations(db)).toEqual(names);

      // A failing migration changes nothing, not even its first statement.
      const broken = {
        ...migrations(dialect),
        '9999_broken': {
          async up(k: Parameters<ReturnType<typeof migrations>[string]['up']>[0]) {
            await k.schema.createTable('half_done').addColumn('x', 'integer').execute();
            await sql`SELECT no_such_function()`.execute(k);
          },
        },
      };
      await expect(migrate(db, broken)).rejects.toThrow(/9999_broken/);
      expect((await db.kysely.introspection.getTables()).map((t) => t.name).sort()).toEqual(before);
      expect(await appliedMigrations(db)).toEqual(names);

      // A new migration applies once...
      const extra = {
        ...migrations(dialect),
        '9999_extra': {
          async up(k: Parameters<ReturnType<typeof migrations>[string]['up']>[0]) {
            await k.schema.createTable('extra').addColumn('x', 'integer').execute();
          },
        },
      };
      await migrate(db, extra);
      await migrate(db, extra);
    } finally {
      await db.close();
    }
    // ...and a server that does not know it refuses the database rather than misreading it.
    await expect(openDatabase(target)).rejects.toThrow(/does not know/);
  });

  it('ms times past 2^32 come back as numbers, counts too', async () => {
    const s = await open(await newTarget(dialect));
    try {
      const d = await s.users.create({ email: 'far@clinic.test', name: 'Dr Far', role: 'doctor' });
      const far = Date.UTC(2100, 0, 1); // > 2^32: a BIGINT in PostgreSQL
      const { consultation } = await s.consultations.create({ doctorId: d.id, patientName: 'Future', scheduledAt: far, createdBy: 'admin:x' });
      await s.consultations.setStatus(consultation.id, 'ended', far + 1);
      const got = await s.consultations.get(consultation.id);
      expect(got).toMatchObject({ scheduledAt: far, expiresAt: far + 24 * 3600_000, endedAt: far + 1 });
      for (const v of [got!.scheduledAt, got!.createdAt, got!.expiresAt, got!.endedAt]) expect(typeof v).toBe('number');
      expect((await s.consultations.listForDoctor(d.id, far, far + 1)).map((c) => c.id)).toEqual([consultation.id]);
      await s.audit.record(consultation.id, 'created', 'system', far);
      const [entry] = await s.audit.list(consultation.id);
      expect(entry).toEqual({ at: far, event: 'created', actor: 'system' });
      const n = await s.users.count();
      expect(n).toBe(1);
      expect(typeof n).toBe('number');
      expect(typeof d.createdAt).toBe('number');
      expect(typeof (await s.users.get(d.id))!.createdAt).toBe('number');
    } finally {
      await s.db.close();
    }
  });

  it('check-then-act is atomic under concurrent calls', async () => {
    const s = await open(await newTarget(dialect));
    try {
      const d = await s.users.create({ email: 'race@clinic.test', name: 'Dr Race', role: 'doctor' });

      // An enrolment link works once, however many use it at the same time.
      const { token } = await s.enrolments.issue(d.id, 'admin:x');
      const uses = await Promise.all(Array.from({ length: 8 }, () => s.enrolments.consume(token)));
      expect(uses.filter((u) => u !== undefined)).toEqual([{ userId: d.id, expiresAt: expect.any(Number) }]);
      expect(await s.enrolments.peek(token)).toBeUndefined();

      // Links issued at the same time for one account: exactly one works afterwards.
      const issued = await Promise.all(Array.from({ length: 6 }, () => s.enrolments.issue(d.id, 'admin:x')));
      const live = await Promise.all(issued.map((i) => s.enrolments.peek(i.token)));
      expect(live.filter((e) => e !== undefined)).toHaveLength(1);
      const rows = await s.db.kysely.selectFrom('enrolments').select('token_hash').where('user_id', '=', d.id).execute();
      expect(rows).toHaveLength(1);

      // One account per email, whoever wins the race.
      const creates = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) => s.users.create({ email: 'Same@clinic.test', name: `Dr Same ${i}`, role: 'doctor' })),
      );
      expect(creates.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of creates) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DuplicateError);
      expect(await s.users.count('doctor')).toBe(2);

      // Ended is final: a new patient link races the end and loses whole, or wins before it.
      const { consultation } = await s.consultations.create({ doctorId: d.id, patientName: 'P', scheduledAt: Date.now(), createdBy: 'admin:x' });
      const [, token2] = await Promise.all([s.consultations.setStatus(consultation.id, 'ended'), s.consultations.newPatientToken(consultation.id)]);
      expect(await s.consultations.newPatientToken(consultation.id)).toBeUndefined();
      if (token2 !== undefined) expect(await s.consultations.verifyPatientToken(consultation.id, token2)).toBe('ended');
      expect((await s.consultations.setStatus(consultation.id, 'in_progress'))?.status).toBe('ended');
    } finally {
      await s.db.close();
    }
  });

  it('rejoin credentials: issue, verify, who may come back, revoke, prune', async () => {
    const s = await open(await newTarget(dialect));
    try {
      const d = await s.users.create({ email: 'rj@clinic.test', name: 'Dr Rejoin', role: 'doctor' });
      const { consultation: c } = await s.consultations.create({ doctorId: d.id, patientName: 'P', scheduledAt: Date.now(), createdBy: 'admin:x' });
      const now = Date.now();
      const a = await s.rejoinCredentials.issue({ consultationId: c.id, participantId: 'pa', displayName: 'A', expiresAt: now + 60_000 }, now);
      const b = await s.rejoinCredentials.issue({ consultationId: c.id, participantId: 'pb', displayName: 'B', expiresAt: now + 60_000 }, now);
      await s.rejoinCredentials.issue({ consultationId: c.id, participantId: 'pa', displayName: 'A', expiresAt: now + 60_000 }, now);
      const old = await s.rejoinCredentials.issue({ consultationId: c.id, participantId: 'px', displayName: 'X', expiresAt: now + 10 }, now);
      expect(await s.rejoinCredentials.verify(a, now)).toEqual({ consultationId: c.id, participantId: 'pa', displayName: 'A', expiresAt: now + 60_000 });
      expect(await s.rejoinCredentials.verify(old, now + 10)).toBeUndefined();
      expect(await s.rejoinCredentials.verify('not-a-token', now)).toBeUndefined();
      expect(await s.rejoinCredentials.verify(42, now)).toBeUndefined();
      expect((await s.rejoinCredentials.participants(c.id, now)).sort()).toEqual(['pa', 'pb', 'px']);
      expect((await s.rejoinCredentials.participants(c.id, now + 10)).sort()).toEqual(['pa', 'pb']);
      // Everyone but the one present goes, in one step.
      expect(await s.rejoinCredentials.revokeOthers(c.id, ['pb'])).toBe(3);
      expect(await s.rejoinCredentials.participants(c.id, now)).toEqual(['pb']);
      expect(await s.rejoinCredentials.verify(b, now)).toMatchObject({ participantId: 'pb' });
      await s.rejoinCredentials.revokeParticipant(c.id, 'pb');
      expect(await s.rejoinCredentials.verify(b, now)).toBeUndefined();
      const c1 = await s.rejoinCredentials.issue({ consultationId: c.id, participantId: 'pc', displayName: 'C', expiresAt: now + 60_000 }, now);
      expect(await s.rejoinCredentials.revokeOthers(c.id, [])).toBe(1);
      expect(await s.rejoinCredentials.verify(c1, now)).toBeUndefined();
      await s.rejoinCredentials.issue({ consultationId: c.id, participantId: 'pd', displayName: 'D', expiresAt: now + 5 }, now);
      await s.rejoinCredentials.issue({ consultationId: c.id, participantId: 'pe', displayName: 'E', expiresAt: now + 60_000 }, now);
      expect(await s.rejoinCredentials.prune(now + 5)).toBe(1);
      await s.rejoinCredentials.revokeConsultation(c.id);
      expect(await s.rejoinCredentials.participants(c.id, now)).toEqual([]);
    } finally {
      await s.db.close();
    }
  });

  it('accounts: listed by name whatever its case, unique emails, passwords set and cleared, audit refuses the unknown', async () => {
    const s = await open(await newTarget(dialect));
    try {
      const b = await s.users.create({ email: 'b@clinic.test', name: 'bernard', role: 'doctor' });
      const a = await s.users.create({ email: 'a@clinic.test', name: 'Alice', role: 'doctor', password: 'alice passphrase one' });
      const c = await s.users.create({ email: 'c@clinic.test', name: 'Chloé', role: 'admin' });
      expect((await s.users.list()).map((u) => u.id)).toEqual([a.id, b.id, c.id]);
      expect((await s.users.list('doctor')).map((u) => u.id)).toEqual([a.id, b.id]);
      await expect(s.users.create({ email: 'A@clinic.test', name: 'Again', role: 'doctor' })).rejects.toBeInstanceOf(DuplicateError);
      expect(await s.users.hasPassword(a.id)).toBe(true);
      expect(await s.users.hasPassword(b.id)).toBe(false);
      expect(await s.users.byEmail(' B@Clinic.test ')).toEqual(b);
      const session = await s.sessions.create(a.id);
      await s.users.clearPassword(a.id);
      expect(await s.users.hasPassword(a.id)).toBe(false);
      expect(await s.sessions.resolve(session)).toBeUndefined();
      expect(await s.users.verify('a@clinic.test', 'alice passphrase one')).toBeUndefined();
      await s.users.setPassword(b.id, 'bernard passphrase two');
      expect(await s.users.verify('b@clinic.test', 'bernard passphrase two')).toEqual(b);
      await expect(s.users.setPassword('nobody', 'a good passphrase here')).rejects.toThrow(RangeError);
      const { consultation } = await s.consultations.create({ doctorId: b.id, patientName: 'P', scheduledAt: Date.now(), createdBy: 'admin:x' });
      await expect(s.audit.record(consultation.id, 'hacked' as never, 'system')).rejects.toThrow(RangeError);
      await expect(s.audit.record(consultation.id, 'created', "x'); DROP TABLE audit; --")).rejects.toThrow(RangeError);
      expect(await s.audit.list(consultation.id)).toEqual([]);
      expect(await tables(s)).toContain('audit');
    } finally {
      await s.db.close();
    }
  });

  it('sessions expire after their TTL and are pruned', async () => {
    const s = await open(await newTarget(dialect));
    const u = await s.users.create({ email: 'x@y.test', name: 'X', role: 'doctor' });
    const short = new SessionStore(s.db, 60_000);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const token = await short.create(u.id);
      expect(await short.resolve(token)).toEqual(u);
      vi.setSystemTime(Date.now() + 59_000);
      expect(await short.resolve(token)).toEqual(u);
      vi.setSystemTime(Date.now() + 2_000);
      expect(await short.resolve(token)).toBeUndefined();
      expect(await s.db.kysely.selectFrom('sessions').selectAll().execute()).toEqual([]); // pruned
    } finally {
      vi.useRealTimers();
      await s.db.close();
    }
  });
});
