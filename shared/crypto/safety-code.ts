/**
 * Safety code: six digits from the transcript of every current participant's
 * public key. Identical on every screen when nobody is in the middle; a
 * relay that swapped a key shows different codes on each side.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { compareBytes } from './key-exchange.ts';

export function safetyCode(roomId: string, publicKeys: Uint8Array[]): string {
  const sorted = [...publicKeys].sort(compareBytes);
  const digest = sha256(concatBytes(utf8ToBytes('confide safety v1\n'), utf8ToBytes(roomId), new Uint8Array([0]), ...sorted));
  // 32 bits mod 10^6: the bias (< 0.03 %) does not matter for a code read aloud.
  const n = ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
  const digits = String(n % 1_000_000).padStart(6, '0');
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}
