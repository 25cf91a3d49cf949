// The staff HTTP API's data: what crosses the wire (zod), error codes and
// field-level validation codes. Routes are in staff-api.ts. Shared by the
// server (validation, response serialization) and the client (types,
// response validation), as signalling.ts is for socket.io.
import { z } from 'zod';
import { Role as CallRole } from './signalling.ts';
import { NameField } from './names.ts';

// ---- errors ------------------------------------------------------------------

/**
 * Every `error.code` the staff API answers. The client translates codes;
 * `error.message` is English for API users and logs, never shown in the UI.
 */
export const ApiErrorCode = z.enum([
  'bad-request', // malformed input; see `fields` for which field and why
  'weak-password',
  'doctor-disabled',
  'unauthenticated',
  'invalid-credentials',
  'forbidden',
  'not-found',
  'duplicate-email',
  'payload-too-large',
  'unsupported-media-type',
  'too-many-attempts', // sign-in throttled (Retry-After)
  'rate-limited', // other per-address limits, or too many sign-ins in progress (Retry-After)
  'invalid-link', // an enrolment link that is unknown, used, replaced or expired
  'consultation-closed', // ended, or its patient link's validity has passed: no new invitation
  'internal',
]);
export type ApiErrorCode = z.infer<typeof ApiErrorCode>;

/**
 * Field-level validation codes, `<field>-<problem>`, sent with a 'bad-request'
 * so the UI can say which field is wrong, in its own language. A schema
 * check names its code as its error (`{ error: 'scheduledAt-range' }`);
 * any other failure of a known field is `<field>-invalid`.
 */
export const FieldError = z.enum([
  'email-invalid',
  'name-invalid',
  'password-invalid',
  'password-too-short',
  'password-weak', // a common password, a repeated pattern, or the account's own email or name
  'doctorId-invalid',
  'patientName-invalid',
  'scheduledAt-invalid',
  'scheduledAt-range',
  'range-invalid',
]);
export type FieldError = z.infer<typeof FieldError>;

const FIELD_ERRORS = new Set<string>(FieldError.options);

/**
 * The field code for one validation issue: the message when a schema
 * named a FieldError, else `<first path segment>-invalid` when that is one,
 * else undefined (a problem with the request as a whole).
 */
export function fieldErrorOf(path: readonly PropertyKey[], message: string): FieldError | undefined {
  if (FIELD_ERRORS.has(message)) return message as FieldError;
  const fallback = path.length > 0 ? `${String(path[0])}-invalid` : '';
  return FIELD_ERRORS.has(fallback) ? (fallback as FieldError) : undefined;
}

/** Every error answer: `{ error: { code, message, fields? } }`. */
export const ApiErrorBody = z.object({
  error: z.object({
    code: ApiErrorCode,
    message: z.string().max(1000),
    fields: z.array(FieldError).max(16).optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

// ---- inputs --------------------------------------------------------------------

/**
 * Passwords: at least 12 characters for a new one (and not a common one: the
 * server checks, server/auth/password-policy.ts); longer than 1024 only costs CPU.
 */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;
/** A new consultation: from 24 h ago to 2 years ahead (ms). */
export const SCHEDULE_PAST_MS = 24 * 60 * 60 * 1000;
export const SCHEDULE_AHEAD_MS = 730 * 24 * 60 * 60 * 1000;
/** Longest doctor dashboard range (ms). */
export const MAX_RANGE_MS = 31 * 24 * 60 * 60 * 1000;

/** A person's name, 1..max code units, through the one name normaliser (names.ts). */
export const PersonName = (max: number) => NameField(max);
/** An ISO 8601 time with an offset, as ms since the epoch. */
export const IsoTime = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));
export const CONSULTATION_ID = /^[a-z0-9]{16}$/;
export const ConsultationId = z.string().regex(CONSULTATION_ID, 'malformed consultation id');
export const ConsultationIdParam = z.strictObject({ id: ConsultationId });
export const UserIdParam = z.strictObject({ id: z.string().min(1).max(64) });

export const LoginBody = z.strictObject({
  email: z.string().min(1).max(320),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

/** A new doctor account: no password; the doctor sets their own through an enrolment link. */
export const NewDoctor = z.strictObject({
  email: z.email().max(254),
  name: PersonName(100),
});

/** An enrolment link's secret (base64url of 32 random bytes): in a URL fragment, sent in bodies only. */
export const EnrolmentToken = z.string().max(64);
export const EnrolmentCheckBody = z.strictObject({ token: EnrolmentToken });
/** Following an enrolment link: the doctor's own new password (the server applies the policy). */
export const EnrolBody = z.strictObject({
  token: EnrolmentToken,
  password: z.string().min(MIN_PASSWORD_LENGTH, { error: 'password-too-short' }).max(MAX_PASSWORD_LENGTH),
});

export const NewConsultation = z.strictObject({
  doctorId: z.string().min(1).max(64),
  patientName: PersonName(64),
  scheduledAt: IsoTime.refine((ms) => ms >= Date.now() - SCHEDULE_PAST_MS && ms <= Date.now() + SCHEDULE_AHEAD_MS, {
    error: 'scheduledAt-range',
  }),
});

/** `?from&to` (ISO times): both or neither (then: today, server time), at most 31 days. */
export const DoctorRange = z
  .strictObject({ from: IsoTime.optional(), to: IsoTime.optional() })
  .refine((q) => (q.from === undefined) === (q.to === undefined), { error: 'range-invalid' })
  .refine((q) => q.from === undefined || q.to === undefined || (q.to > q.from && q.to - q.from <= MAX_RANGE_MS), {
    error: 'range-invalid',
  });

/** The patient's link check: the token travels in the body, never in a URL. */
export const LinkCheckBody = z.strictObject({
  consultationId: z.string().max(64),
  token: z.string().max(256),
});

// ---- answers ---------------------------------------------------------------------

export const StaffRole = z.enum(['admin', 'doctor']);
export type StaffRole = z.infer<typeof StaffRole>;

export const User = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: StaffRole,
  disabled: z.boolean(),
  createdAt: z.number(),
});
export type User = z.infer<typeof User>;

/** Who is in a consultation's room now (a reconnecting participant still counts), and how many patients wait. */
export const LiveStatus = z.object({
  connected: z.array(z.object({ role: CallRole, name: z.string(), reconnecting: z.boolean().optional() })).max(64),
  waiting: z.number().int().min(0),
});
export type LiveStatus = z.infer<typeof LiveStatus>;

/**
 * What the console shows (derived on the server from the stored row, live
 * presence and the time; definitions in docs/protocol.md, code in
 * server/consultations/consultation-status.ts).
 */
export const ConsultationStatus = z.enum([
  'scheduled',
  'waiting',
  'in_progress',
  'interrupted',
  'no_show',
  'expired',
  'ended',
]);
export type ConsultationStatus = z.infer<typeof ConsultationStatus>;

/** A consultation as created (times in ms since the epoch). */
export const Consultation = z.object({
  id: z.string(),
  doctorId: z.string(),
  patientName: z.string(),
  scheduledAt: z.number(),
  status: ConsultationStatus,
  createdBy: z.string(),
  createdAt: z.number(),
  /** The patient link stops working then (scheduledAt + 24 h). */
  expiresAt: z.number(),
  /** When the patient first joined. */
  startedAt: z.number().optional(),
  endedAt: z.number().optional(),
});
export type Consultation = z.infer<typeof Consultation>;

/** A consultation with its live state, for the console and the doctor. */
export const ConsultationView = Consultation.extend({
  live: LiveStatus,
  /** Ending it still means something: not ended, and its links work or someone is there. */
  endable: z.boolean(),
  /** The call's length so far (ms); stops when the call does. */
  durationMs: z.number().optional(),
  doctorName: z.string().optional(),
});
export type ConsultationView = z.infer<typeof ConsultationView>;

/** An enrolment link's secret and when it stops working (ms); the console builds `/enrol#t=<token>`. */
export const EnrolmentLink = z.object({ token: z.string(), expiresAt: z.number() });
export type EnrolmentLink = z.infer<typeof EnrolmentLink>;

/** Whose account an enrolment link sets the password of; one 'invalid' for every link that does not work. */
export const EnrolmentCheckAnswer = z.discriminatedUnion('state', [
  z.object({ state: z.literal('invalid') }),
  z.object({ state: z.literal('ok'), email: z.string(), name: z.string(), expiresAt: z.number() }),
]);
export type EnrolmentCheckAnswer = z.infer<typeof EnrolmentCheckAnswer>;

/** One answer, 'invalid', for an unknown consultation and a wrong token alike. */
export const LinkCheckAnswer = z.discriminatedUnion('state', [
  z.object({ state: z.literal('invalid') }),
  z.object({ state: z.enum(['ok', 'expired', 'ended']), doctorName: z.string(), scheduledAt: z.number() }),
]);
export type LinkCheckAnswer = z.infer<typeof LinkCheckAnswer>;
