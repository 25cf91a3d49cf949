// Password hashing: scrypt (node:crypto), encoded as `scrypt$N$r$p$salt$hash`
// with base64url salt and hash. Verification is constant-time.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../shared/protocol/staff-schemas.ts';

// The policy's numbers are part of the staff API (shared with the client).
// Longer inputs than the maximum are refused outright (they only cost CPU).
export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH };

const N = 2 ** 15;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
// Bounds on parameters read back from storage, so a corrupt row cannot make us burn memory.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

/** A new password that does not meet the policy. The message is safe to show. */
export class PasswordPolicyError extends Error {
  readonly code = 'weak-password';
}

/** Throws PasswordPolicyError unless `password` may be set as a new password. */
export function assertNewPassword(password: string): void {
  if (typeof password !== 'string') throw new PasswordPolicyError('password must be a string');
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new PasswordPolicyError(`password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new PasswordPolicyError(`password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r * p + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a new password (call assertNewPassword first for user-chosen ones). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** True when `password` matches `encoded`; false for a mismatch or a malformed encoding. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) return false;
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const n = Number(parts[1]);
  const r = Number(parts[2]);
  const p = Number(parts[3]);
  if (!Number.isInteger(n) || n < 2 || n > MAX_N || (n & (n - 1)) !== 0) return false;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R || !Number.isInteger(p) || p < 1 || p > MAX_P) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || expected.length !== KEY_BYTES) return false;
  const actual = await derive(password, salt, n, r, p);
  return timingSafeEqual(actual, expected);
}

let dummy: Promise<string> | undefined;

function dummyHash(): Promise<string> {
  if (!dummy) {
    const d = hashPassword(randomBytes(24).toString('base64url'));
    d.catch(() => {
      if (dummy === d) dummy = undefined;
    });
    dummy = d;
  }
  return dummy;
}

/** Computes the dummy hash ahead of the first login, so that one is not slower either. */
export function warmUpDummyPassword(): void {
  void dummyHash().catch(() => undefined);
}

/**
 * Spends the same time as verifying a real password, for logins with an
 * unknown email (so response times do not reveal which accounts exist).
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  await verifyPassword(password, await dummyHash());
  return false;
}
