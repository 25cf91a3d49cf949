// The JSON API under /api: sign-in, the admin console, the doctor's dashboard.
// Every input is validated (zod); every error is `{ error: { code, message } }`.
// Nothing here logs request bodies, cookies or tokens.
import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError, errorBody, type ApiDeps, type ErrorCode } from './api/common.ts';
import { authRoutes } from './api/auth.ts';
import { adminRoutes } from './api/admin.ts';
import { doctorRoutes } from './api/doctor.ts';

export type { ApiDeps, LiveStatus, ErrorCode, ConsultationView } from './api/common.ts';
export { ApiError } from './api/common.ts';

const FRAMEWORK_ERRORS: Record<number, [ErrorCode, string]> = {
  413: ['payload-too-large', 'request body too large'],
  415: ['unsupported-media-type', 'send JSON (Content-Type: application/json)'],
};

/** Registers every /api route (as an encapsulated plugin) on `app`. Call before `app.ready()`/`listen()`. */
export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(
    async (api) => {
      api.addHook('onSend', async (_req, reply) => {
        reply.header('Cache-Control', 'no-store');
      });

      api.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
        if (err instanceof ApiError) {
          if (err.retryAfterSec !== undefined) reply.header('Retry-After', String(err.retryAfterSec));
          return reply.code(err.status).send(errorBody(err.code, err.message));
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
      await api.register(async (admin) => adminRoutes(admin, deps), { prefix: '/admin' });
      await api.register(async (doctor) => doctorRoutes(doctor, deps), { prefix: '/doctor' });
    },
    { prefix: '/api' },
  );
}
