// Which web pages may act on this server with a visitor's cookie (issue 12,
// item 3). SameSite=Strict keeps the session cookie off cross-site requests,
// but another port of the same host is the same *site*: a page there could
// POST a form, or open a WebSocket, with the doctor's cookie. So every
// state-changing HTTP request and every signalling handshake made by a browser
// must come from an allowed origin:
// - `Origin` present: it must be one of CONFIDE_ORIGINS, or (unset) this very
//   server as the request addressed it (its Host header);
// - no `Origin`, but `Sec-Fetch-Site`: it must be `same-origin` (or `none`:
//   typed by the user);
// - neither: not a browser (every browser sends Origin on POST and on a
//   WebSocket handshake), so not a request forged with someone's cookie.
import type { IncomingHttpHeaders } from 'node:http';

/** Allowed origins (`https://clinic.example`), or undefined: same origin as the request's Host. */
export type AllowedOrigins = ReadonlySet<string> | undefined;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `raw` as a canonical origin (`scheme://host[:port]`), or undefined if it is not one. */
export function canonicalOrigin(raw: string): string | undefined {
  try {
    const u = new URL(raw);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.pathname !== '/' || u.search || u.hash || u.username) return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/**
 * CONFIDE_ORIGINS: comma-separated origins (`https://clinic.example`) that may
 * use the API and signalling; unset means "the Host the request was sent to".
 * Throws on a value that is not an origin.
 */
export function parseAllowedOrigins(raw: string | undefined): AllowedOrigins {
  const v = raw?.trim() ?? '';
  if (v === '') return undefined;
  const out = new Set<string>();
  for (const part of v.split(',').map((p) => p.trim()).filter(Boolean)) {
    const o = canonicalOrigin(part);
    if (!o) throw new Error(`CONFIDE_ORIGINS must list origins like https://clinic.example; got "${part.slice(0, 100)}"`);
    out.add(o);
  }
  return out;
}

/**
 * Whether a request with these headers may act with the visitor's cookie
 * (see the module comment). Never throws.
 */
export function originAllowed(headers: IncomingHttpHeaders, allowed: AllowedOrigins): boolean {
  const origin = header(headers, 'origin');
  if (origin !== undefined) {
    if (origin === 'null') return false; // sandboxed frames, file: pages, some redirects
    const o = canonicalOrigin(origin);
    if (!o) return false;
    if (allowed) return allowed.has(o);
    const host = header(headers, 'host');
    return host !== undefined && new URL(o).host === host.toLowerCase();
  }
  const site = header(headers, 'sec-fetch-site');
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  return true;
}
