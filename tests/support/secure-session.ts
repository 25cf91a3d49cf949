// What a sign-in over HTTPS must answer (issue 15): a session cookie that
// never travels in clear or to scripts, and HSTS.
import { expect } from 'vitest';

/** Asserts `headers` (a sign-in's answer) set a Secure, HttpOnly session cookie and HSTS. */
export function expectSecureSession(headers: Record<string, string | string[] | undefined>): void {
  const cookie = String(headers['set-cookie']);
  expect(cookie).toMatch(/^confide_session=/);
  expect(cookie).toMatch(/;\s*Secure/i);
  expect(cookie).toMatch(/;\s*HttpOnly/i);
  expect(headers['strict-transport-security']).toMatch(/^max-age=/);
}
