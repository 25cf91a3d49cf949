// POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { clearSessionCookie, readSessionToken, sessionCookie } from '../../auth/session-cookie.ts';
import { LoginThrottle } from '../../auth/login-throttle.ts';
import { MAX_PASSWORD_LENGTH } from '../../auth/passwords.ts';
import { ApiError, parse, type ApiDeps } from './common.ts';

const LoginBody = z.strictObject({
  email: z.string().min(1).max(320),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

export function authRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { users, sessions } = deps.stores;
  const throttle = deps.loginThrottle ?? new LoginThrottle();
  const cookie = { secure: deps.cookieSecure };

  app.post('/auth/login', async (req, reply) => {
    const { email, password } = parse(LoginBody, req.body);
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
    return reply.header('Set-Cookie', sessionCookie(token, cookie)).send({ user });
  });

  app.post('/auth/logout', async (req, reply) => {
    sessions.revoke(readSessionToken(req.headers.cookie));
    return reply.code(204).header('Set-Cookie', clearSessionCookie(cookie)).send();
  });

  app.get('/auth/me', async (req) => {
    const user = sessions.resolve(readSessionToken(req.headers.cookie));
    if (!user) throw new ApiError(401, 'unauthenticated', 'not signed in');
    return { user };
  });
}
