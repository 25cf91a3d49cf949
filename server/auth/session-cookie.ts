// The staff session cookie. HttpOnly (scripts never see it), SameSite=Strict
// (never sent on cross-site requests), Secure when served over HTTPS.
export const SESSION_COOKIE = 'confide_session';
/** 12 h, like the session itself. */
export const SESSION_MAX_AGE_SEC = 43_200;

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
/** Longer Cookie headers are not parsed at all. */
const MAX_HEADER = 16 * 1024;

export interface CookieOptions {
  secure: boolean;
}

function attributes(maxAge: number, opts: CookieOptions): string {
  return `Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${opts.secure ? '; Secure' : ''}`;
}

/** Set-Cookie value that signs the browser in with `token`. */
export function sessionCookie(token: string, opts: CookieOptions): string {
  if (!TOKEN.test(token)) throw new Error('malformed session token');
  return `${SESSION_COOKIE}=${token}; ${attributes(SESSION_MAX_AGE_SEC, opts)}`;
}

/** Set-Cookie value that removes the session cookie. */
export function clearSessionCookie(opts: CookieOptions): string {
  return `${SESSION_COOKIE}=; ${attributes(0, opts)}`;
}

/**
 * The session token from a Cookie request header, if there is a well-formed
 * one (the first `confide_session` cookie wins). Never throws.
 */
export function readSessionToken(cookieHeader: string | undefined): string | undefined {
  if (typeof cookieHeader !== 'string' || cookieHeader.length > MAX_HEADER) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return TOKEN.test(value) ? value : undefined;
  }
  return undefined;
}
