// Password hashing: scrypt (node:crypto), encoded as `scrypt$N$r$p$salt$hash`
// with base64url salt and hash. Verification is constant-time, and says when a
// stored hash was made with weaker parameters than today's (rehash it then).
//
// Cost: OWASP's Password Storage Cheat Sheet for scrypt, N = 2^17, r = 8,
// p = 1 (128 MiB and ~0.3–0.8 s per hash here). Each hash takes a libuv
// thread for that long: callers bound how many run at once (auth/hash-gate.ts).
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

import { MAX_PASSWORD_LENGTH } from '../../shared/protocol/staff-schemas.ts';

export { assertNewPassword, PasswordPolicyError, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH } from './password-policy.ts';

/** scrypt's cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/** What production hashes with (OWASP, scrypt). */
export const OWASP_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
// Bounds on parameters read back from storage, so a corrupt row cannot make us burn memory.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

/**
 * The stored "hash" of an account with no usable password (a doctor who has
 * not followed their enrolment link yet, or whose password was reset). It is
 * not a valid encoding, so it never verifies.
 */
export const NO_PASSWORD = '!';

/** The result of checking a password against a stored hash. */
export interface Verdict {
  ok: boolean;
  /** The password was right but its hash is weaker than today's: store hash(password) again. */
  rehash: boolean;
}

function derive(password: string, salt: Buffer, { N, r, p }: ScryptParams): Promise<Buffer> {
  // maxmem: what scrypt needs (128·N·r·p bytes) with room to spare; node's default (32 MiB) is too small.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r * p + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function parse(encoded: string): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return undefined;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R || !Number.isInteger(p) || p < 1 || p > MAX_P) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const key = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || key.length !== KEY_BYTES) return undefined;
  return { params: { N, r, p }, salt, key };
}

/**
 * Hashes and verifies passwords with one set of scrypt parameters (production:
 * OWASP_SCRYPT; tests may pass cheaper ones in code, never from configuration).
 */
export class PasswordHasher {
  private dummy: Promise<string> | undefined;

  constructor(readonly params: ScryptParams = OWASP_SCRYPT) {}

  /** Hashes a new password (check it with assertNewPassword first). Rejects only on an internal scrypt error. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await derive(password, salt, this.params);
    const { N, r, p } = this.params;
    return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
  }

  /** Checks `password` against `encoded`; a malformed encoding (or NO_PASSWORD) is a mismatch. Never throws on input. */
  async verify(password: string, encoded: string): Promise<Verdict> {
    if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) return { ok: false, rehash: false };
    const stored = typeof encoded === 'string' ? parse(encoded) : undefined;
    if (!stored) {
      // Same cost as a real check, so an account without a password does not stand out by timing.
      await this.verifyDummy(password);
      return { ok: false, rehash: false };
    }
    const actual = await derive(password, stored.salt, stored.params);
    const ok = timingSafeEqual(actual, stored.key);
    const { N, r, p } = stored.params;
    return { ok, rehash: ok && (N < this.params.N || r < this.params.r || p < this.params.p) };
  }

  /**
   * Spends the same time as verifying a real password, for logins with an
   * unknown email (so response times do not reveal which accounts exist).
   */
  async verifyDummy(password: string): Promise<false> {
    const stored = parse(await this.dummyHash());
    if (stored) await derive(typeof password === 'string' ? password.slice(0, MAX_PASSWORD_LENGTH) : '', stored.salt, stored.params);
    return false;
  }

  /** Computes the dummy hash ahead of the first login, so that one is not slower either. */
  warmUp(): void {
    void this.dummyHash().catch(() => undefined);
  }

  private dummyHash(): Promise<string> {
    if (!this.dummy) {
      const d = this.hash(randomBytes(24).toString('base64url'));
      d.catch(() => {
        if (this.dummy === d) this.dummy = undefined;
      });
      this.dummy = d;
    }
    return this.dummy;
  }
}
