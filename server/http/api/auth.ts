// POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me.
import type { FastifyInstance } from 'fastify';
import { clearSessionCookie, readSessionToken, sessionCookie } from '../../auth/session-cookie.ts';
import { LoginThrottle } from '../../auth/login-throttle.ts';
import { ApiError, hashing, userOf, type ApiDeps } from './common.ts';
import type { User } from '../../store/users.ts';
import { assertNewPassword, PasswordPolicyError } from '../../auth/password-policy.ts';
import { route } from './route.ts';

export function authRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { users, sessions, enrolments } = deps.stores;
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
    await sessions.revoke(readSessionToken(req.headers.cookie));
    const token = await sessions.create(user.id);
    req.log.info({ userId: user.id, role: user.role }, 'signed in');
    reply.header('Set-Cookie', sessionCookie(token, cookie));
    return { user };
  });

  route(app, deps.stores, 'enrolmentCheck', async ({ body: { token } }) => {
    const e = await enrolments.peek(token);
    const user = e && (await users.get(e.userId));
    if (!e || !user || user.disabled) return { state: 'invalid' as const };
    return { state: 'ok' as const, email: user.email, name: user.name, expiresAt: e.expiresAt };
  });

  // The doctor's own password, through a one-time link; then signed in.
  route(app, deps.stores, 'enrol', async ({ body: { token, password } }, req, reply) => {
    const e = await enrolments.peek(token);
    const target = e && (await users.get(e.userId));
    if (!e || !target || target.disabled) throw new ApiError(410, 'invalid-link', 'this link does not work any more');
    try {
      assertNewPassword(password, { email: target.email, name: target.name });
    } catch (err) {
      if (err instanceof PasswordPolicyError) throw new ApiError(400, 'weak-password', err.message, undefined, [err.field]);
      throw err;
    }
    // Consumed only once a hashing slot is ours (a weak password, or a 429 while sign-ins
    // fill the slots, does not use the link up), and atomically: one use wins.
    await hashing(deps, req.ip, async () => {
      if (!(await enrolments.consume(token))) throw new ApiError(410, 'invalid-link', 'this link does not work any more');
      return users.setPassword(target.id, password);
    });
    await sessions.revoke(readSessionToken(req.headers.cookie));
    const user = (await users.get(target.id))!;
    reply.header('Set-Cookie', sessionCookie(await sessions.create(user.id), cookie));
    req.log.info({ userId: user.id }, 'password set through an enrolment link; signed in');
    return { user };
  });

  route(app, deps.stores, 'logout', async (_input, req, reply) => {
    await sessions.revoke(readSessionToken(req.headers.cookie));
    reply.header('Set-Cookie', clearSessionCookie(cookie));
  });

  route(app, deps.stores, 'me', async (_input, req) => ({ user: userOf(req) }));
}
