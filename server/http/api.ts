// The JSON API under /api: sign-in, the admin console, the doctor's dashboard
// and the patient's link check, registered from the one typed definition in
// shared/protocol/staff-api.ts. Every input is validated (zod); every error is
// `{ error: { code, message, fields? } }` — clients show the code, translated.
// Nothing here logs request bodies, cookies or tokens.
import type { FastifyError, FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { fieldErrorOf, type FieldError } from '../../shared/protocol/staff-api.ts';
import { ApiError, errorBody, type ApiDeps, type ErrorCode } from './api/common.ts';
import { authRoutes } from './api/auth.ts';
import { HashGate } from '../auth/hash-gate.ts';
import { originAllowed } from './origin-policy.ts';
import { adminRoutes } from './api/admin.ts';
import { doctorRoutes } from './api/doctor.ts';
import { patientRoutes } from './api/patient.ts';

export type { ApiDeps, LiveStatus, ErrorCode, ConsultationView } from './api/common.ts';
export { ApiError } from './api/common.ts';

const FRAMEWORK_ERRORS: Record<number, [ErrorCode, string]> = {
  413: ['payload-too-large', 'request body too large'],
  415: ['unsupported-media-type', 'send JSON (Content-Type: application/json)'],
};

/** Zod issues as field codes (deduplicated) and a short English description that echoes no values. */
function describeIssues(issues: readonly { instancePath: string; message?: string }[]): { fields: FieldError[]; message: string } {
  const fields = new Set<FieldError>();
  const parts: string[] = [];
  for (const issue of issues) {
    const path = issue.instancePath.split('/').slice(1).filter(Boolean);
    const field = fieldErrorOf(path, issue.message ?? '');
    if (field) fields.add(field);
    if (parts.length < 3) parts.push(`${path.length ? path.join('.') : 'input'}: ${issue.message ?? 'invalid'}`);
  }
  return { fields: [...fields], message: parts.join('; ').slice(0, 300) };
}

/** Registers every /api route (as an encapsulated plugin) on `app`. Call before `app.ready()`/`listen()`. */
export async function registerApi(app: FastifyInstance, given: ApiDeps): Promise<void> {
  // One gate for every route that hashes a password (login, enrolment).
  const deps: ApiDeps = { ...given, hashGate: given.hashGate ?? new HashGate() };
  await app.register(
    async (api) => {
      api.setValidatorCompiler(validatorCompiler);
      api.setSerializerCompiler(serializerCompiler);
      // Per-route limits only (staffApi[*].perMinute); answered as ApiError 'rate-limited'.
      await api.register(rateLimit, {
        global: false,
        errorResponseBuilder: (_req, ctx) =>
          new ApiError(429, 'rate-limited', 'too many requests; try again later', Math.max(1, Math.ceil(ctx.ttl / 1000))),
      });

      api.addHook('onSend', async (_req, reply) => {
        reply.header('Cache-Control', 'no-store');
      });

      // Cross-site request forgery, from another port of the same host too
      // (same site: SameSite=Strict does not help): a browser's state-changing
      // request must come from an allowed origin, and carry JSON — a form can
      // send neither (origin-policy.ts).
      api.addHook('onRequest', async (req) => {
        if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
        if (!originAllowed(req.headers, deps.allowedOrigins)) {
          req.log.warn({ method: req.method }, 'cross-origin request refused');
          throw new ApiError(403, 'forbidden', 'cross-origin request refused');
        }
        const type = req.headers['content-type'];
        if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
          throw new ApiError(415, 'unsupported-media-type', 'send JSON (Content-Type: application/json)');
        }
      });

      api.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
        if (err instanceof ApiError) {
          if (err.retryAfterSec !== undefined) reply.header('Retry-After', String(err.retryAfterSec));
          return reply.code(err.status).send(errorBody(err.code, err.message, err.fields));
        }
        if (hasZodFastifySchemaValidationErrors(err)) {
          const { fields, message } = describeIssues(err.validation);
          return reply.code(400).send(errorBody('bad-request', message, fields));
        }
        if (isResponseSerializationError(err)) {
          // An answer that does not match its schema is not sent (it may carry what it should not).
          req.log.error({ url: err.url, method: err.method }, 'api answer did not match its schema');
          return reply.code(500).send(errorBody('internal', 'internal error'));
        }
        const status = err.statusCode;
        if (typeof status === 'number' && status >= 400 && status < 500) {
          const [code, message] = FRAMEWORK_ERRORS[status] ?? ['bad-request', 'malformed request'];
          return reply.code(status === 413 || status === 415 ? status : 400).send(errorBody(code, message));
        }
        req.log.error({ err: { name: err.name, message: err.message } }, 'api request failed');
        return reply.code(500).send(errorBody('internal', 'internal error'));
      });

      api.setNotFoundHandler((_req, reply) => reply.code(404).send(errorBody('not-found', 'no such endpoint')));

      authRoutes(api, deps);
      adminRoutes(api, deps);
      doctorRoutes(api, deps);
      patientRoutes(api, deps);
    },
    { prefix: '/api' },
  );
}
