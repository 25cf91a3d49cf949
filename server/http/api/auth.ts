// POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me.
import type { FastifyInstance } from 'fastify';
import { clearSessionCookie, readSessionToken, sessionCookie } from '../../auth/session-cookie.ts';
import { LoginThrottle } from '../../auth/login-throttle.ts';
import { ApiError, hashing, userOf, type ApiDeps } from './common.ts';
import type { User } from '../../store/users.ts';
import { route } from './route.ts';

export function authRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { users, sessions } = deps.stores;
  const throttle = deps.loginThrottle ?? new LoginThrottle();
  const cookie = { secure: deps.cookieSecure };

  route(app, deps.stores, 'login', async ({ body: { email, password } }, req, reply) => {
    // Counted before the hash, so concurrent guesses cannot all pass the check.
    const verdict = throttle.begin(req.ip, email);
    if (!verdict.allowed) {
      req.log.warn({ ip: req.ip }, 'login refused: too many failed attempts');
      throw new ApiError(429, 'too-many-attempts', 'too many failed attempts; try again later', verdict.retryAfterSec);
    }
    const { attempt } = verdict;
    let user: User | undefined;
    try {
      user = await hashing(deps, req.ip, () => users.verify(email, password));
    } catch (err) {
      attempt.cancel();
      throw err;
    }
    if (!user) {
      attempt.failed();
      throw new ApiError(401, 'invalid-credentials', 'wrong email or password');
    }
    attempt.succeeded();
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
