/**
 * The room secret: 256 random bits made by the browser that creates a
 * consultation and carried only in the URL fragment of its invite links
 * (browsers never send fragments to servers). It authenticates key
 * announcements; it never encrypts media itself.
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export const ROOM_SECRET_BYTES = 32;
const FRAGMENT_KEY = 'k';

export function generateRoomSecret(): Uint8Array {
  return randomBytes(ROOM_SECRET_BYTES);
}

/** `k=<64 hex>`: what goes after `#` in an invite link. */
export function roomSecretFragment(secret: Uint8Array): string {
  if (secret.length !== ROOM_SECRET_BYTES) throw new Error('room secret must be 32 bytes');
  return `${FRAGMENT_KEY}=${bytesToHex(secret)}`;
}

/** Reads the secret from a URL fragment (with or without '#'); undefined if absent or malformed. */
export function parseRoomSecretFragment(fragment: string): Uint8Array | undefined {
  const params = new URLSearchParams(fragment.replace(/^#/, ''));
  const hex = params.get(FRAGMENT_KEY);
  if (!hex || !/^[0-9a-f]{64}$/.test(hex)) return undefined;
  return hexToBytes(hex);
}

/** MAC key for key announcements, bound to the room id. */
export function deriveRoomAuthKey(secret: Uint8Array, roomId: string): Uint8Array {
  return hkdf(sha256, secret, utf8ToBytes('confide room v1'), concatBytes(utf8ToBytes('auth '), utf8ToBytes(roomId)), 32);
}
