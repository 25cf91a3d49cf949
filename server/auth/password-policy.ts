// What a new password must be (issue 12, item 8): long enough, and not one
// that guessing starts with. NIST SP 800-63B §3.1.1.2: a minimum length, no
// composition rules, and a check against a list of commonly used or
// compromised passwords and context words (the account's email and name).
//
// The list: `passwords-common` of @zxcvbn-ts/language-common (≈ 49 000
// passwords from leaked sets, ranked), a maintained package. We look passwords
// up in it (fast, bounded) rather than run zxcvbn's estimator, whose matching
// took seconds of event-loop time on long repetitive inputs.
import { dictionary } from '@zxcvbn-ts/language-common';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../shared/protocol/staff-schemas.ts';

export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH };

/** Which rule a refused password broke, as the staff API's field code. */
export type PolicyField = 'password-too-short' | 'password-weak' | 'password-invalid';

/** A new password that does not meet the policy. The message is safe to show (English, for logs and API users). */
export class PasswordPolicyError extends Error {
  readonly code = 'weak-password';
  constructor(
    readonly field: PolicyField,
    message: string,
  ) {
    super(message);
  }
}

/** The account the password is for: its words must not be the password. */
export interface PasswordContext {
  email?: string;
  name?: string;
}

const COMMON = new Set((dictionary['passwords-common'] as readonly string[]).map((p) => p.toLowerCase()));
/** Fewer different characters than this is a pattern, not a password ("aaaaaaaaaaaa", "abababababab"). */
const MIN_DISTINCT = 5;
/** Once the account's own words and the edges' digits are gone, this much must remain. */
const MIN_CORE = 6;

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i', '+': 't' };
const deLeet = (s: string) => s.replace(/[013457@$!+]/g, (c) => LEET[c] ?? c);
const compact = (s: string) => s.replace(/[^\p{L}\p{N}]/gu, '');
const stripDigitEdges = (s: string) => s.replace(/^\d+|\d+$/g, '');

/** The forms a guesser would try the listed password in: as is, without separators, digits at the ends, leet. */
function variants(lower: string): string[] {
  const out = new Set<string>();
  for (const base of [lower, deLeet(lower)]) {
    const c = compact(base);
    out.add(base).add(c).add(stripDigitEdges(c)).add(base.replace(/[\d\W_]+$/u, '')).add(base.replace(/^[\d\W_]+/u, ''));
  }
  out.delete('');
  return [...out];
}

/** The account's own words (≥ 3 letters) from its email's local part and its name. */
function contextWords(ctx: PasswordContext): string[] {
  const text = `${ctx.email?.split('@')[0] ?? ''} ${ctx.name ?? ''}`.normalize('NFKC').toLowerCase();
  return [...new Set(text.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 3))].sort((a, b) => b.length - a.length);
}

/**
 * Throws PasswordPolicyError unless `password` may be set as a new password:
 * at least MIN_PASSWORD_LENGTH characters (code points), at most
 * MAX_PASSWORD_LENGTH, at least 5 different characters, not a common password
 * in any usual disguise (case, separators, digits around it, leet), and not
 * just the account's own email or name with digits.
 */
export function assertNewPassword(password: string, ctx: PasswordContext = {}): void {
  if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) {
    throw new PasswordPolicyError('password-invalid', `password must be a string of at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  const chars = [...password];
  if (chars.length < MIN_PASSWORD_LENGTH) {
    throw new PasswordPolicyError('password-too-short', `password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  const lower = password.normalize('NFKC').toLowerCase();
  if (new Set(chars).size < MIN_DISTINCT || /^(.{1,6})\1+$/su.test(lower)) {
    throw new PasswordPolicyError('password-weak', 'password is a repeated pattern');
  }
  if (variants(lower).some((v) => COMMON.has(v))) {
    throw new PasswordPolicyError('password-weak', 'password is a commonly used password');
  }
  let core = compact(lower);
  for (const word of contextWords(ctx)) core = core.split(word).join('');
  core = stripDigitEdges(core);
  if (core.length < MIN_CORE || COMMON.has(core)) {
    throw new PasswordPolicyError('password-weak', 'password is too close to the account’s email or name, or to digits alone');
  }
}
