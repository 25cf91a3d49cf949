// POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me.
import type { FastifyInstance } from 'fastify';
import { clearSessionCookie, readSessionToken, sessionCookie } from '../../auth/session-cookie.ts';
import { LoginThrottle } from '../../auth/login-throttle.ts';
import { ApiError, userOf, type ApiDeps } from './common.ts';
import { route } from './route.ts';

export function authRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { users, sessions } = deps.stores;
  const throttle = deps.loginThrottle ?? new LoginThrottle();
  const cookie = { secure: deps.cookieSecure };

  route(app, deps.stores, 'login', async ({ body: { email, password } }, req, reply) => {
    const verdict = throttle.check(req.ip, email);
    if (!verdict.allowed) {
      req.log.warn({ ip: req.ip }, 'login refused: too many failed attempts');
      throw new ApiError(429, 'too-many-attempts', 'too many failed attempts; try again later', verdict.retryAfterSec);
    }
    const user = await users.verify(email, password);
    if (!user) {
      throttle.failed(req.ip, email);
      throw new ApiError(401, 'invalid-credentials', 'wrong email or password');
    }
    throttle.succeeded(req.ip, email);
    // A previous session of this browser ends here.
    sessions.revoke(readSessionToken(req.headers.cookie));
    const token = sessions.create(user.id);
    req.log.info({ userId: user.id, role: user.role }, 'signed in');
    reply.header('Set-Cookie', sessionCookie(token, cookie));
    return { user };
  });

  route(app, deps.stores, 'logout', async (_input, req, reply) => {
    sessions.revoke(readSessionToken(req.headers.cookie));
    reply.header('Set-Cookie', clearSessionCookie(cookie));
  });

  route(app, deps.stores, 'me', async (_input, req) => ({ user: userOf(req) }));
}
