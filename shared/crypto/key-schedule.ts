/**
 * Confide's KID layout and the RFC 9605 §5.1 sender-key ratchet.
 *
 *   KID (one byte) = slot (4 bits) | epoch (2 bits) | ratchet step (2 bits)
 *
 * - slot: the sender's seat in the room (0..15), assigned at join and bound
 *   to its public key by the authenticated announcement;
 * - epoch: +1 whenever the sender distributes a fresh random base key (a
 *   participant left);
 * - step: +1 whenever the sender ratchets its base key forward (someone
 *   joined, or the frame counter neared 2^16).
 * Epoch and step wrap; receivers hold at most the current key, two ratchet
 * steps ahead and, for 2 s, the previous one, so a wrapped KID never meets
 * a key of the same KID still in use. One byte keeps SFrame overhead at 20 B.
 * @module
 */
import { expand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

export const MAX_SLOTS = 16;
export const BASE_KEY_BYTES = 32; // Nh of SHA-256, the hash of suite 0x0004

export interface KidParts {
  slot: number;
  epoch: number;
  step: number;
}

export function makeKid({ slot, epoch, step }: KidParts): bigint {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new Error(`slot out of range: ${slot}`);
  return BigInt((slot << 4) | ((epoch & 3) << 2) | (step & 3));
}

export function parseKid(kid: bigint): KidParts {
  if (kid < 0n || kid > 0xffn) throw new Error('KID out of range');
  const n = Number(kid);
  return { slot: n >> 4, epoch: (n >> 2) & 3, step: n & 3 };
}

/** The KID `ahead` ratchet steps after `kid` (same slot and epoch). */
export function kidAfter(kid: bigint, ahead: number): bigint {
  const p = parseKid(kid);
  return makeKid({ ...p, step: p.step + ahead });
}

const RATCHET_LABEL = utf8ToBytes('SFrame 1.0 Ratchet');

/** RFC 9605 §5.1: next base_key = HKDF-Expand(base_key, "SFrame 1.0 Ratchet", Nh). One-way. */
export function ratchetBaseKey(baseKey: Uint8Array): Uint8Array {
  return expand(sha256, baseKey, RATCHET_LABEL, BASE_KEY_BYTES);
}
