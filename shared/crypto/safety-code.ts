/**
 * Safety code: digits people read aloud to compare, derived from one key
 * round (docs/protocol.md, "Safety code"): the round's context (room, round
 * number, members) and every member's public key and fresh nonce of that
 * round. Because every contribution was committed to before any was revealed
 * (shared/crypto/key-commitment.ts), a man in the middle cannot choose its
 * keys to make two sides show the same code: it matches by chance only,
 * 1 in 10^digits per attempt.
 *
 *   code = uint32(first 4 bytes of SHA-256(F("confide safety v2") ‖ F(ctx) ‖ F(F(slot:1 B) ‖ F(publicKey) ‖ F(nonce)) for each member by slot)) mod 10^digits
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { lengthPrefixed } from './bytes.ts';

/** One member's contribution to a round, as revealed (and checked against its commitment). */
export interface Contribution {
  slot: number;
  publicKey: Uint8Array;
  nonce: Uint8Array;
}

/** The code's length people read: 6 digits. Tests use fewer to measure an attacker's chances quickly. */
export const SAFETY_CODE_DIGITS = 6;
const LABEL = utf8ToBytes('confide safety v2');

/**
 * The code of a round: `digits` (1…9) decimal digits, in groups of three
 * separated by a space ("123 456"). Independent of the order of
 * `contributions` (sorted by slot). Throws on a slot out of 0…255 or bad digits.
 */
export function safetyCode(ctx: Uint8Array, contributions: readonly Contribution[], digits = SAFETY_CODE_DIGITS): string {
  if (!Number.isInteger(digits) || digits < 1 || digits > 9) throw new Error('digits must be 1..9');
  const sorted = [...contributions].sort((a, b) => a.slot - b.slot);
  const fields = sorted.map((c) => {
    if (!Number.isInteger(c.slot) || c.slot < 0 || c.slot > 0xff) throw new Error('slot out of range');
    return lengthPrefixed(new Uint8Array([c.slot]), c.publicKey, c.nonce);
  });
  const d = sha256(lengthPrefixed(LABEL, ctx, ...fields));
  // 32 bits mod 10^6: the bias (< 0.03 %) does not matter for a code read aloud.
  const n = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  const s = String(n % 10 ** digits).padStart(digits, '0');
  return s.replace(/(\d{3})(?=\d)/g, '$1 ');
}
