// The staff API client (and the patient's link check), typed from the one
// definition in shared/protocol/staff-api.ts. Every answer is validated
// against its schema; an error carries only its code (and field codes): the
// server's English message is never kept, so the UI cannot show it
// (client/ui/errors.ts translates codes).
import {
  ApiErrorCode,
  FieldError,
  fillPath,
  staffApi,
  type RequestOf,
  type ResponseOf,
  type RouteDef,
  type RouteName,
} from '../../shared/protocol/staff-api.ts';

export type {
  Consultation,
  ConsultationStatus,
  ConsultationView,
  EnrolmentCheckAnswer,
  EnrolmentLink,
  LinkCheckAnswer,
  LiveStatus,
  StaffRole as Role,
  User,
} from '../../shared/protocol/staff-api.ts';

/** Failures of our own: no answer at all, or one that is not what the API promises. */
export type ClientErrorCode = 'network' | 'bad-response';

/**
 * A failed API call: the HTTP status (0 without an answer), the API's error
 * code, and the fields at fault for a 'bad-request'. `message` names the
 * code only.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode | ClientErrorCode,
    readonly fields: readonly FieldError[] = [],
  ) {
    super(`staff API error: ${code}`);
  }
}

/** The parts of RequestOf<N> the route has (params, query, body). */
type Input<N extends RouteName> = {
  [K in keyof RequestOf<N> as RequestOf<N>[K] extends undefined ? never : K]: RequestOf<N>[K];
};

/**
 * Calls route `name` with its params, query and body; resolves to its
 * validated answer (void for 204). Throws ApiError: the API's code,
 * 'network' (no answer) or 'bad-response' (an answer off the schema).
 */
export async function callApi<N extends RouteName>(name: N, input: Input<N>): Promise<ResponseOf<N>> {
  const def: RouteDef = staffApi[name];
  const { params, query, body } = input as { params?: Record<string, string>; query?: Record<string, string>; body?: unknown };
  let url = fillPath(def.path, params);
  const qs = new URLSearchParams(Object.entries(query ?? {}).filter(([, v]) => v !== undefined));
  if (qs.size > 0) url += `?${qs}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: def.method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network');
  }
  const data: unknown = res.status === 204 ? undefined : await res.json().catch(() => undefined);
  if (!res.ok) throw errorOf(res.status, data);
  if (!def.response) return undefined as ResponseOf<N>;
  const parsed = def.response.safeParse(data);
  if (!parsed.success) throw new ApiError(res.status, 'bad-response');
  return parsed.data as ResponseOf<N>;
}

/** Reads `{ error: { code, fields } }` leniently: unknown codes become 'bad-response', unknown fields are dropped. */
function errorOf(status: number, data: unknown): ApiError {
  const error = (data as { error?: { code?: unknown; fields?: unknown } } | undefined)?.error;
  const code = ApiErrorCode.safeParse(error?.code);
  const fields = Array.isArray(error?.fields)
    ? error.fields.flatMap((f) => {
        const r = FieldError.safeParse(f);
        return r.success ? [r.data] : [];
      })
    : [];
  return new ApiError(status, code.success ? code.data : 'bad-response', fields);
}

/** One function per route, named as in the API table. */
export const api = {
  me: () => callApi('me', {}).then((r) => r.user),
  login: (email: string, password: string) => callApi('login', { body: { email, password } }).then((r) => r.user),
  logout: () => callApi('logout', {}),
  doctors: () => callApi('listDoctors', {}).then((r) => r.doctors),
  /** The new account and its enrolment link (shown once). */
  createDoctor: (d: RequestOf<'createDoctor'>['body']) => callApi('createDoctor', { body: d }),
  resetDoctorPassword: (id: string) => callApi('resetDoctorPassword', { params: { id } }).then((r) => r.enrolment),
  setDoctorDisabled: (id: string, disabled: boolean) =>
    callApi(disabled ? 'disableDoctor' : 'enableDoctor', { params: { id } }),
  consultations: () => callApi('listConsultations', {}).then((r) => r.consultations),
  createConsultation: (c: RequestOf<'createConsultation'>['body']) => callApi('createConsultation', { body: c }),
  endConsultation: (id: string) => callApi('endConsultation', { params: { id } }),
  /** The doctor's consultations scheduled in [from, to) (ms); today (server time) without a range. */
  myConsultations: (range?: { from: number; to: number }) =>
    callApi('myConsultations', {
      query: range ? { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() } : {},
    }).then((r) => r.consultations),
  myConsultation: (id: string) => callApi('myConsultation', { params: { id } }).then((r) => r.consultation),
  linkCheck: (consultationId: string, token: string) => callApi('linkCheck', { body: { consultationId, token } }),
  /** A new patient token for the doctor's own consultation (the previous patient link stops working). */
  createInvitation: (id: string) => callApi('createInvitation', { params: { id } }).then((r) => r.patientToken),
  enrolmentCheck: (token: string) => callApi('enrolmentCheck', { body: { token } }),
  enrol: (token: string, password: string) => callApi('enrol', { body: { token, password } }).then((r) => r.user),
};
