// Shared pieces of the JSON API: dependencies, typed errors, authentication
// and the consultation view. Schemas live in shared/protocol/staff-api.ts.
import type { FastifyRequest } from 'fastify';
import type { Stores } from '../../store/index.ts';
import type { Role, User } from '../../store/users.ts';
import type { Consultation } from '../../store/consultations.ts';
import { readSessionToken } from '../../auth/session-cookie.ts';
import type { LoginThrottle } from '../../auth/login-throttle.ts';
import { HashGateFull, type HashGate } from '../../auth/hash-gate.ts';
import type { AllowedOrigins } from '../origin-policy.ts';
import { consultationStatus } from '../../consultations/consultation-status.ts';
import type {
  ApiErrorBody,
  ApiErrorCode,
  ConsultationView,
  FieldError,
  LiveStatus,
} from '../../../shared/protocol/staff-api.ts';

export type { ApiErrorCode as ErrorCode, ConsultationView, LiveStatus };

export interface ApiDeps {
  stores: Stores;
  cookieSecure: boolean;
  live(consultationId: string): LiveStatus;
  /**
   * Ends a consultation for everyone (closes its room, tells waiting
   * patients). May set the status and record the audit event itself; the API
   * does both after the call (and after the promise, if one is returned) if
   * it did not. Only called while not yet ended.
   */
  endConsultation(id: string, actor: string): Promise<void> | void;
  /** Optional: a preconfigured login throttle (tests); one is created otherwise. */
  loginThrottle?: LoginThrottle;
  /** Bounds the password hashes in flight (login, enrolment); registerApi creates one if absent. */
  hashGate?: HashGate;
  /** Origins whose pages may make state-changing requests (CONFIDE_ORIGINS); undefined: the request's own Host. */
  allowedOrigins?: AllowedOrigins;
  /** A consultation's patient link was replaced: those waiting with the old one are turned away. */
  linkReplaced?(consultationId: string): void;
  /** Optional: the link check's per-address limit per minute (tests); staffApi.linkCheck.perMinute otherwise. */
  linkCheckPerMinute?: number;
}

/** An error whose status, code and message are safe to send back (the UI shows only the code). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly retryAfterSec?: number,
    readonly fields?: FieldError[],
  ) {
    super(message);
  }
}

export function errorBody(code: ApiErrorCode, message: string, fields?: FieldError[]): ApiErrorBody {
  return { error: fields?.length ? { code, message, fields } : { code, message } };
}

/**
 * Runs `work` (which hashes a password) through the API's hash gate, keyed by
 * client address. Throws ApiError 429 'rate-limited' (Retry-After 1) when
 * too many hashes are in flight, server-wide or from this address.
 */
export async function hashing<T>(deps: ApiDeps, ip: string, work: () => Promise<T>): Promise<T> {
  if (!deps.hashGate) return work();
  try {
    return await deps.hashGate.run(ip, work);
  } catch (err) {
    if (err instanceof HashGateFull) throw new ApiError(429, 'rate-limited', 'too many sign-ins in progress; try again in a moment', 1);
    throw err;
  }
}

// ---- authentication --------------------------------------------------------

const signedIn = new WeakMap<FastifyRequest, User>();

/** onRequest hook factory: only signed-in users (with `role`, if given) get through (401, else 403). */
export function requireRole(stores: Stores, role?: Role) {
  return async (req: FastifyRequest): Promise<void> => {
    const user = await stores.sessions.resolve(readSessionToken(req.headers.cookie));
    if (!user) throw new ApiError(401, 'unauthenticated', 'sign in first');
    if (role !== undefined && user.role !== role) throw new ApiError(403, 'forbidden', `only for ${role}s`);
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

/** A stored consultation with its live state and shown status (consultation-status.ts), as answered. */
export function consultationView(c: Consultation, deps: ApiDeps, now = Date.now()): ConsultationView {
  const live = deps.live(c.id);
  const { emptiedAt: _internal, ...stored } = c;
  return { ...stored, live, ...consultationStatus(c, live, now) };
}
