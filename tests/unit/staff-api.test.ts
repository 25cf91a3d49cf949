// The shared staff API definition (shared/protocol/staff-api.ts): route table,
// input schemas with their field-level codes, answer schemas.
import { describe, expect, it } from 'vitest';
import {
  ConsultationView,
  DoctorRange,
  errorsOf,
  fieldErrorOf,
  fillPath,
  LinkCheckAnswer,
  LinkCheckBody,
  NewConsultation,
  NewDoctor,
  EnrolBody,
  staffApi,
  type RouteDef,
} from '../../shared/protocol/staff-api.ts';

const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The field codes a schema's failure maps to, as the server answers them. */
function fieldsOf(schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown) {
  const r = schema.safeParse(value);
  if (r.success) return 'ok';
  return [...new Set(r.error!.issues.map((i) => fieldErrorOf(i.path, i.message) ?? '(request)'))].sort();
}

describe('route table', () => {
  const defs = Object.entries(staffApi) as [string, RouteDef][];

  it('paths are unique per method, under /api/, with declared params', () => {
    const seen = new Set<string>();
    for (const [name, def] of defs) {
      expect(def.path, name).toMatch(/^\/api\/[a-z/:-]+$/);
      const key = `${def.method} ${def.path}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
      expect(def.path.includes('/:'), name).toBe(def.params !== undefined);
      expect(def.response === undefined, name).toBe(def.status === 204);
      if (def.method === 'GET') expect(def.body, name).toBeUndefined();
    }
  });

  it('only sign-in, sign-out, enrolment links and the patient link check are open to anyone', () => {
    expect(defs.filter(([, d]) => d.access === 'anyone').map(([n]) => n).sort()).toEqual(['enrol', 'enrolmentCheck', 'linkCheck', 'login', 'logout']);
    // The two that a link holder calls without an account are limited per address.
    for (const name of ['enrol', 'enrolmentCheck', 'linkCheck'] as const) expect(staffApi[name].perMinute).toBeGreaterThan(0);
    expect(errorsOf('listDoctors')).toEqual(expect.arrayContaining(['unauthenticated', 'forbidden', 'bad-request']));
    expect(errorsOf('linkCheck')).not.toContain('unauthenticated');
    expect(errorsOf('linkCheck')).toContain('rate-limited');
    expect(staffApi.linkCheck.perMinute).toBeGreaterThan(0);
  });

  it('fills path params, encoded', () => {
    expect(fillPath('/api/admin/doctors/:id/disable', { id: 'a/b c' })).toBe('/api/admin/doctors/a%2Fb%20c/disable');
    expect(() => fillPath('/api/admin/doctors/:id/disable', {})).toThrow(/id/);
  });
});

describe('inputs and their field codes', () => {
  const good = { doctorId: 'd1', patientName: 'Camille Durand', scheduledAt: iso(Date.now() + HOUR) };

  it('a new consultation: time within 24 h ago .. 2 years ahead, names trimmed, nothing extra', () => {
    expect(NewConsultation.parse(good)).toEqual({ ...good, scheduledAt: Date.parse(good.scheduledAt) });
    expect(NewConsultation.parse({ ...good, patientName: '  Camille  ' }).patientName).toBe('Camille');
    expect(fieldsOf(NewConsultation, { ...good, scheduledAt: iso(Date.now() - 25 * HOUR) })).toEqual(['scheduledAt-range']);
    expect(fieldsOf(NewConsultation, { ...good, scheduledAt: iso(Date.now() + 731 * 24 * HOUR) })).toEqual(['scheduledAt-range']);
    expect(fieldsOf(NewConsultation, { ...good, scheduledAt: 'tomorrow' })).toEqual(['scheduledAt-invalid']);
    expect(fieldsOf(NewConsultation, { ...good, scheduledAt: Date.now() })).toEqual(['scheduledAt-invalid']);
    expect(fieldsOf(NewConsultation, { ...good, patientName: 'P'.repeat(65) })).toEqual(['patientName-invalid']);
    expect(fieldsOf(NewConsultation, { ...good, patientName: 'A\u0007B' })).toEqual(['patientName-invalid']);
    expect(fieldsOf(NewConsultation, { ...good, doctorId: '' })).toEqual(['doctorId-invalid']);
    expect(fieldsOf(NewConsultation, { ...good, status: 'ended' })).toEqual(['(request)']);
    expect(fieldsOf(NewConsultation, null)).toEqual(['(request)']);
  });

  it('a new doctor: email and name only (the doctor sets the password); an enrolment: 12 characters or more', () => {
    const doctor = { email: 'dr@clinic.test', name: 'Dr Martin' };
    expect(fieldsOf(NewDoctor, doctor)).toBe('ok');
    expect(NewDoctor.safeParse({ ...doctor, password: 'an admin-chosen password' }).success).toBe(false);
    expect(fieldsOf(NewDoctor, { ...doctor, email: 'nope', name: ' ' })).toEqual(['email-invalid', 'name-invalid']);
    expect(fieldsOf(EnrolBody, { token: 't', password: 'long enough pw' })).toBe('ok');
    expect(fieldsOf(EnrolBody, { token: 't', password: 'elevenchars' })).toEqual(['password-too-short']);
  });

  it('the doctor range: both or neither, ordered, 31 days at most', () => {
    const from = Date.now();
    expect(DoctorRange.parse({})).toEqual({});
    expect(fieldsOf(DoctorRange, { from: iso(from) })).toEqual(['range-invalid']);
    expect(fieldsOf(DoctorRange, { from: iso(from), to: iso(from - HOUR) })).toEqual(['range-invalid']);
    expect(fieldsOf(DoctorRange, { from: iso(from), to: iso(from + 32 * 24 * HOUR) })).toEqual(['range-invalid']);
    expect(fieldsOf(DoctorRange, { from: iso(from), to: iso(from + HOUR) })).toBe('ok');
  });

  it('the link check takes any short strings (unknown ids get the one "invalid" answer, not a 400)', () => {
    expect(fieldsOf(LinkCheckBody, { consultationId: 'not-an-id', token: 'x' })).toBe('ok');
    expect(fieldsOf(LinkCheckBody, { consultationId: 'a'.repeat(65), token: 'x' })).toEqual(['(request)']);
    expect(fieldsOf(LinkCheckBody, { consultationId: 'a', token: 'x', extra: 1 })).toEqual(['(request)']);
  });
});

describe('answers', () => {
  it('the link check answer: "invalid" carries nothing else', () => {
    expect(LinkCheckAnswer.parse({ state: 'invalid', doctorName: 'leak', scheduledAt: 1 })).toEqual({ state: 'invalid' });
    expect(LinkCheckAnswer.safeParse({ state: 'ok' }).success).toBe(false);
    expect(LinkCheckAnswer.parse({ state: 'ended', doctorName: 'Dr Martin', scheduledAt: 1 })).toEqual({ state: 'ended', doctorName: 'Dr Martin', scheduledAt: 1 });
  });

  it('a consultation view drops what it does not declare (a token hash, internal times)', () => {
    const view = {
      id: 'abcdefghijklmnop',
      doctorId: 'd1',
      patientName: 'P',
      scheduledAt: 1,
      status: 'interrupted',
      createdBy: 'a1',
      createdAt: 0,
      expiresAt: 2,
      live: { connected: [{ role: 'patient', name: 'P', reconnecting: true }], waiting: 0 },
      endable: true,
      patientTokenHash: 'ab'.repeat(32),
      emptiedAt: 5,
    };
    const parsed = ConsultationView.parse(view);
    expect(parsed).not.toHaveProperty('patientTokenHash');
    expect(parsed).not.toHaveProperty('emptiedAt');
    expect(parsed.live.connected[0]!.reconnecting).toBe(true);
    expect(ConsultationView.safeParse({ ...view, status: 'in progress' }).success).toBe(false);
  });
});
