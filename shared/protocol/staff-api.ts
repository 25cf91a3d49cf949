// The one definition of Confide's staff HTTP API (and the patient's link
// check): method, path, who may call it, the zod schemas of its params,
// query, body and answer, and the error codes it may answer. The server
// registers its routes from this table (server/http/api/route.ts); the client
// calls it through client/api/api-client.ts. Data schemas: staff-schemas.ts.
import { z } from 'zod';
import {
  ApiErrorCode,
  Consultation,
  ConsultationIdParam,
  ConsultationView,
  DoctorRange,
  EnrolBody,
  EnrolmentCheckAnswer,
  EnrolmentCheckBody,
  EnrolmentLink,
  LinkCheckAnswer,
  LinkCheckBody,
  LoginBody,
  NewConsultation,
  NewDoctor,
  User,
  UserIdParam,
} from './staff-schemas.ts';

export * from './staff-schemas.ts';

/** Who may call a route: anyone, any signed-in staff member, or one role. Others get 401/403. */
export type Access = 'anyone' | 'signed-in' | 'admin' | 'doctor';

export interface RouteDef {
  method: 'GET' | 'POST';
  /** Full path, fastify style (`:id`). */
  path: `/api/${string}`;
  access: Access;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Success status; 204 has no body. */
  status: 200 | 201 | 204;
  response?: z.ZodType;
  /** Error codes this route answers besides those of its access level and malformed requests. */
  errors: readonly ApiErrorCode[];
  /** Per-address limit (requests per minute), answered with 'rate-limited'. */
  perMinute?: number;
}

/** Sign-in is throttled per (address, email) and per address: 'too-many-attempts'. */
export const staffApi = {
  login: {
    method: 'POST',
    path: '/api/auth/login',
    access: 'anyone',
    body: LoginBody,
    status: 200,
    response: z.object({ user: User }),
    errors: ['invalid-credentials', 'too-many-attempts', 'rate-limited'],
  },
  logout: { method: 'POST', path: '/api/auth/logout', access: 'anyone', status: 204, errors: [] },
  me: {
    method: 'GET',
    path: '/api/auth/me',
    access: 'signed-in',
    status: 200,
    response: z.object({ user: User }),
    errors: [],
  },
  /** The enrolment page, before asking for a password: whose account this link is for. */
  enrolmentCheck: {
    method: 'POST',
    path: '/api/auth/enrolment/check',
    access: 'anyone',
    body: EnrolmentCheckBody,
    status: 200,
    response: EnrolmentCheckAnswer,
    errors: ['rate-limited'],
    perMinute: 20,
  },
  /** Sets the account's password with a one-time enrolment link, and signs in (cookie). */
  enrol: {
    method: 'POST',
    path: '/api/auth/enrolment',
    access: 'anyone',
    body: EnrolBody,
    status: 200,
    response: z.object({ user: User }),
    errors: ['invalid-link', 'weak-password', 'rate-limited'],
    perMinute: 10,
  },

  listDoctors: {
    method: 'GET',
    path: '/api/admin/doctors',
    access: 'admin',
    status: 200,
    response: z.object({ doctors: z.array(User) }),
    errors: [],
  },
  /** The account has no password: `enrolment` is the link with which the doctor sets theirs (shown once). */
  createDoctor: {
    method: 'POST',
    path: '/api/admin/doctors',
    access: 'admin',
    body: NewDoctor,
    status: 201,
    response: z.object({ user: User, enrolment: EnrolmentLink }),
    errors: ['duplicate-email'],
  },
  /** The doctor's password stops working, their sessions and sockets end; a new enrolment link (shown once). */
  resetDoctorPassword: {
    method: 'POST',
    path: '/api/admin/doctors/:id/reset',
    access: 'admin',
    params: UserIdParam,
    status: 200,
    response: z.object({ enrolment: EnrolmentLink }),
    errors: ['not-found'],
  },
  /** Disabling also signs the doctor out everywhere. */
  disableDoctor: {
    method: 'POST',
    path: '/api/admin/doctors/:id/disable',
    access: 'admin',
    params: UserIdParam,
    status: 204,
    errors: ['not-found'],
  },
  enableDoctor: {
    method: 'POST',
    path: '/api/admin/doctors/:id/enable',
    access: 'admin',
    params: UserIdParam,
    status: 204,
    errors: ['not-found'],
  },
  /** No link in the answer: the doctor's browser makes the patient's (createInvitation), so the admin never holds one. */
  createConsultation: {
    method: 'POST',
    path: '/api/admin/consultations',
    access: 'admin',
    body: NewConsultation,
    status: 201,
    response: z.object({ consultation: Consultation }),
    errors: ['not-found', 'doctor-disabled'],
  },
  listConsultations: {
    method: 'GET',
    path: '/api/admin/consultations',
    access: 'admin',
    status: 200,
    response: z.object({ consultations: z.array(ConsultationView) }),
    errors: [],
  },
  /** Closes the call and its links; ending an ended consultation is a no-op. */
  endConsultation: {
    method: 'POST',
    path: '/api/admin/consultations/:id/end',
    access: 'admin',
    params: ConsultationIdParam,
    status: 204,
    errors: ['not-found'],
  },

  myConsultations: {
    method: 'GET',
    path: '/api/doctor/consultations',
    access: 'doctor',
    query: DoctorRange,
    status: 200,
    response: z.object({ from: z.number(), to: z.number(), consultations: z.array(ConsultationView) }),
    errors: [],
  },
  myConsultation: {
    method: 'GET',
    path: '/api/doctor/consultations/:id',
    access: 'doctor',
    params: ConsultationIdParam,
    status: 200,
    response: z.object({ consultation: ConsultationView }),
    errors: ['not-found', 'forbidden'],
  },
  /**
   * A new patient token for the doctor's own open consultation, in this
   * answer only (the server keeps its SHA-256); the previous patient link
   * stops working. The doctor's browser puts it in the patient link with the
   * room secret it drew itself.
   */
  createInvitation: {
    method: 'POST',
    path: '/api/doctor/consultations/:id/invitation',
    access: 'doctor',
    params: ConsultationIdParam,
    status: 200,
    response: z.object({ patientToken: z.string() }),
    errors: ['not-found', 'forbidden', 'consultation-closed'],
  },

  /** The patient page, before asking for the camera: with whom, when, and whether the link works. */
  linkCheck: {
    method: 'POST',
    path: '/api/patient/link-check',
    access: 'anyone',
    body: LinkCheckBody,
    status: 200,
    response: LinkCheckAnswer,
    errors: ['rate-limited'],
    perMinute: 20,
  },
} as const satisfies Record<string, RouteDef>;

export type StaffApi = typeof staffApi;
export type RouteName = keyof StaffApi;

type SchemaOf<R, K extends string> = R extends Record<K, infer S extends z.ZodType> ? S : undefined;
type Input<R, K extends string> = SchemaOf<R, K> extends z.ZodType ? z.input<SchemaOf<R, K>> : undefined;
type Output<R, K extends string> = SchemaOf<R, K> extends z.ZodType ? z.output<SchemaOf<R, K>> : undefined;

/** What a client sends to route N (before the server's transforms, e.g. ISO time strings). */
export interface RequestOf<N extends RouteName> {
  params: Input<StaffApi[N], 'params'>;
  query: Input<StaffApi[N], 'query'>;
  body: Input<StaffApi[N], 'body'>;
}
/** What the server's handler of route N receives (validated, transformed). */
export interface ParsedRequestOf<N extends RouteName> {
  params: Output<StaffApi[N], 'params'>;
  query: Output<StaffApi[N], 'query'>;
  body: Output<StaffApi[N], 'body'>;
}
/** The answer of route N (void for 204). */
export type ResponseOf<N extends RouteName> = SchemaOf<StaffApi[N], 'response'> extends z.ZodType
  ? z.output<SchemaOf<StaffApi[N], 'response'>>
  : void;

/** The error codes route N may answer, including its access level's and malformed input's. */
export function errorsOf(name: RouteName): ApiErrorCode[] {
  const def: RouteDef = staffApi[name];
  const codes = new Set<ApiErrorCode>(['bad-request', 'payload-too-large', 'unsupported-media-type', 'internal', ...def.errors]);
  if (def.access !== 'anyone') codes.add('unauthenticated');
  if (def.access === 'admin' || def.access === 'doctor') codes.add('forbidden');
  return [...codes];
}

/** `path` with each `:name` replaced by the URI-encoded param. Throws on a missing param. */
export function fillPath(path: string, params: Record<string, string> | undefined): string {
  return path.replace(/:(\w+)/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined) throw new TypeError(`missing path parameter ${name}`);
    return encodeURIComponent(v);
  });
}
