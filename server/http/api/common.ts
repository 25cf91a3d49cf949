// Shared pieces of the JSON API: typed errors, validation, authentication.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Stores } from '../../store/index.ts';
import type { Role, User } from '../../store/users.ts';
import type { Consultation } from '../../store/consultations.ts';
import { readSessionToken } from '../../auth/session-cookie.ts';
import type { LoginThrottle } from '../../auth/login-throttle.ts';

/** Who is in a consultation's room right now, and how many patients wait. */
export interface LiveStatus {
  connected: { role: 'doctor' | 'patient'; name: string; reconnecting?: boolean }[];
  waiting: number;
}

export interface ApiDeps {
  stores: Stores;
  cookieSecure: boolean;
  live(consultationId: string): LiveStatus;
  /**
   * Ends a consultation for everyone (closes its room, tells waiting
   * patients). May set the status and record the audit event itself; the API
   * does both after the call if it did not. Only called while not yet ended.
   */
  endConsultation(id: string, actor: string): void;
  /** Optional: a preconfigured login throttle (tests); one is created otherwise. */
  loginThrottle?: LoginThrottle;
}

export type ErrorCode =
  | 'bad-request'
  | 'weak-password'
  | 'doctor-disabled'
  | 'unauthenticated'
  | 'invalid-credentials'
  | 'forbidden'
  | 'not-found'
  | 'duplicate-email'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'too-many-attempts'
  | 'internal';

/** An error whose status, code and message are safe to send back. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterSec?: number,
  ) {
    super(message);
  }
}

export function errorBody(code: ErrorCode, message: string) {
  return { error: { code, message } };
}

/** A short description of what is wrong, without echoing values. */
export function describe(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : 'input'}: ${i.message}`)
    .join('; ')
    .slice(0, 300);
}

export function parse<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const r = schema.safeParse(data);
  if (!r.success) throw new ApiError(400, 'bad-request', describe(r.error));
  return r.data;
}

// ---- schemas ---------------------------------------------------------------

const noControlChars = (s: string) => !/\p{Cc}/u.test(s);
export const PersonName = (max: number) =>
  z.string().max(1024).trim().min(1).max(max).refine(noControlChars, 'must not contain control characters');
export const IsoTime = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));
export const ConsultationIdParam = z.strictObject({ id: z.string().regex(/^[a-z0-9]{16}$/, 'malformed consultation id') });
export const UserIdParam = z.strictObject({ id: z.string().min(1).max(64) });

// ---- authentication --------------------------------------------------------

const signedIn = new WeakMap<FastifyRequest, User>();

/** onRequest hook factory: only signed-in users with `role` get through (401, else 403). */
export function requireRole(stores: Stores, role: Role) {
  return async (req: FastifyRequest): Promise<void> => {
    const user = stores.sessions.resolve(readSessionToken(req.headers.cookie));
    if (!user) throw new ApiError(401, 'unauthenticated', 'sign in first');
    if (user.role !== role) throw new ApiError(403, 'forbidden', `only for ${role}s`);
    signedIn.set(req, user);
  };
}

/** The user a requireRole hook let through. */
export function userOf(req: FastifyRequest): User {
  const user = signedIn.get(req);
  if (!user) throw new ApiError(401, 'unauthenticated', 'sign in first');
  return user;
}

// ---- views -----------------------------------------------------------------

export type ConsultationView = Consultation & { live: LiveStatus; durationMs?: number };

export function consultationView(c: Consultation, deps: ApiDeps, now = Date.now()): ConsultationView {
  const view: ConsultationView = { ...c, live: deps.live(c.id) };
  if (c.startedAt !== undefined) view.durationMs = Math.max(0, (c.endedAt ?? now) - c.startedAt);
  return view;
}
