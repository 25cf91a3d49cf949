/**
 * Commit-then-reveal for the key agreement's rounds (docs/protocol.md, "Key
 * rounds"), so nobody can choose its public key or nonce after seeing an
 * honest participant's contribution to the same round: the idea of ZRTP's
 * hash commitment (RFC 6189 §4.4.1.1) and Matrix's SAS verification, for a
 * group whose membership a relay announces.
 *
 *   ctx        = SHA-256(F("confide round v1") ‖ F(roomId) ‖ F(round:4 B) ‖ F(F(slot:1 B) ‖ F(peerId)) for each member by slot)
 *   commitment = SHA-256(F("confide commit v1") ‖ F(ctx) ‖ F(publicKey:32 B) ‖ F(nonce:32 B))
 *   mac        = HMAC-SHA256(authKey, F("confide commitment v1") ‖ F(roomId) ‖ F(peerId) ‖ F(slot:1 B) ‖ F(ctx) ‖ F(commitment))
 *
 * F(x) = len(x) as 2 bytes big-endian ‖ x. Pure: no DOM or Node globals.
 * @module
 */
import { equalBytes } from '@noble/ciphers/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { lengthPrefixed } from './bytes.ts';
import { MAX_SLOTS } from './key-schedule.ts';

/** Bytes of the fresh random nonce each participant contributes to each round. */
export const NONCE_BYTES = 32;
/** Bytes of a commitment, a MAC and a round context (SHA-256 outputs). */
export const DIGEST_BYTES = 32;
/** Round numbers are 1 … 2^32 − 1 (4 bytes in the context). */
export const MAX_ROUND = 0xffff_ffff;

/** One member of a round as the relay announced it. */
export interface RoundMember {
  peerId: string;
  slot: number;
}

const ROUND_LABEL = utf8ToBytes('confide round v1');
const COMMIT_LABEL = utf8ToBytes('confide commit v1');
const MAC_LABEL = utf8ToBytes('confide commitment v1');

function slotByte(slot: number): Uint8Array {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new Error(`slot out of range: ${slot}`);
  return new Uint8Array([slot]);
}

function roundBytes(round: number): Uint8Array {
  if (!Number.isInteger(round) || round < 1 || round > MAX_ROUND) throw new Error(`round out of range: ${round}`);
  return new Uint8Array([round >>> 24, (round >>> 16) & 0xff, (round >>> 8) & 0xff, round & 0xff]);
}

/**
 * Is `members` a valid member list: 1…MAX_SLOTS entries, distinct peer ids,
 * distinct slots in range? (The relay is not trusted to send one.)
 */
export function validMembers(members: readonly RoundMember[]): boolean {
  if (members.length < 1 || members.length > MAX_SLOTS) return false;
  const ids = new Set<string>();
  const slots = new Set<number>();
  for (const m of members) {
    if (!Number.isInteger(m.slot) || m.slot < 0 || m.slot >= MAX_SLOTS || ids.has(m.peerId) || slots.has(m.slot)) return false;
    ids.add(m.peerId);
    slots.add(m.slot);
  }
  return true;
}

/**
 * The 32-byte context that names one round: the room, the round number and
 * who is in it (by slot). Every commitment, MAC and the safety code include
 * it, so nothing of one round can be replayed into another, nor into the
 * same round number with other members. Throws on an invalid member list or
 * round number.
 */
export function roundContext(roomId: string, round: number, members: readonly RoundMember[]): Uint8Array {
  if (!validMembers(members)) throw new Error('invalid member list');
  const sorted = [...members].sort((a, b) => a.slot - b.slot);
  return sha256(
    lengthPrefixed(
      ROUND_LABEL,
      utf8ToBytes(roomId),
      roundBytes(round),
      ...sorted.map((m) => lengthPrefixed(slotByte(m.slot), utf8ToBytes(m.peerId))),
    ),
  );
}

/** SHA-256 commitment to a public key (32 B) and a nonce (32 B) in the round `ctx`. Throws on wrong sizes. */
export function commitTo(ctx: Uint8Array, publicKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  if (ctx.length !== DIGEST_BYTES || publicKey.length !== 32 || nonce.length !== NONCE_BYTES) throw new Error('commitTo: bad sizes');
  return sha256(lengthPrefixed(COMMIT_LABEL, ctx, publicKey, nonce));
}

/** Does the revealed (publicKey, nonce) open `commitment` in round `ctx`? Never throws. */
export function revealMatches(commitment: Uint8Array, ctx: Uint8Array, publicKey: Uint8Array, nonce: Uint8Array): boolean {
  if (commitment.length !== DIGEST_BYTES || publicKey.length !== 32 || nonce.length !== NONCE_BYTES) return false;
  return equalBytes(commitTo(ctx, publicKey, nonce), commitment);
}

/**
 * The commitment's MAC under the room auth key, binding it to the room, the
 * participant (peer id and slot) and the round (its context). Only holders of
 * the invite link can make one. Throws on a slot out of range.
 */
export function commitmentMac(
  authKey: Uint8Array,
  roomId: string,
  peerId: string,
  slot: number,
  ctx: Uint8Array,
  commitment: Uint8Array,
): Uint8Array {
  return hmac(sha256, authKey, lengthPrefixed(MAC_LABEL, utf8ToBytes(roomId), utf8ToBytes(peerId), slotByte(slot), ctx, commitment));
}

/** Checks a commitment's MAC (constant-time compare); false on any malformed input. */
export function verifyCommitmentMac(
  authKey: Uint8Array,
  roomId: string,
  peerId: string,
  slot: number,
  ctx: Uint8Array,
  commitment: Uint8Array,
  mac: Uint8Array,
): boolean {
  if (commitment.length !== DIGEST_BYTES || mac.length !== DIGEST_BYTES || ctx.length !== DIGEST_BYTES) return false;
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) return false;
  return equalBytes(commitmentMac(authKey, roomId, peerId, slot, ctx, commitment), mac);
}
