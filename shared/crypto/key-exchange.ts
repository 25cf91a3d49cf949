/**
 * Key exchange between participants, through an untrusted relay (the public
 * keys themselves travel in key rounds: shared/crypto/key-commitment.ts):
 * - X25519 identity key pairs, one per membership;
 * - pairwise key: HKDF(X25519 shared secret) salted with the room auth key
 *   and bound to both public keys;
 * - key box: XChaCha20-Poly1305 under the pairwise key, random 24-byte nonce,
 *   AAD binding room, sender, recipient and KID. Carries a media base key or
 *   an acknowledgement.
 * @module
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { BASE_KEY_BYTES } from './key-schedule.ts';

export interface KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function generateKeyPair(): KeyPair {
  const secretKey = x25519.utils.randomSecretKey();
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/** Length-prefixed fields, so no two different tuples encode alike. */
function encodeFields(...fields: Uint8Array[]): Uint8Array {
  return concatBytes(...fields.flatMap((f) => [new Uint8Array([f.length >> 8, f.length & 0xff]), f]));
}

/**
 * A one-byte field (slot, KID). Anything but an integer in 0..255 is refused:
 * `new Uint8Array([n])` would silently keep n mod 256 (or its integer part),
 * so a MAC or AAD made for one value would also verify for others.
 */
function byteField(n: number, what: string): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new Error(`${what} must be an integer in 0..255`);
  return new Uint8Array([n]);
}

/** Symmetric key shared by two participants; the same on both sides. */
export function pairwiseKey(
  own: KeyPair,
  theirPublicKey: Uint8Array,
  authKey: Uint8Array,
  roomId: string,
): Uint8Array {
  const shared = x25519.getSharedSecret(own.secretKey, theirPublicKey);
  if (shared.every((b) => b === 0)) throw new Error('low-order public key');
  const [lo, hi] = compareBytes(own.publicKey, theirPublicKey) < 0 ? [own.publicKey, theirPublicKey] : [theirPublicKey, own.publicKey];
  const info = encodeFields(utf8ToBytes('confide pairwise v1'), utf8ToBytes(roomId), lo, hi);
  const key = hkdf(sha256, shared, authKey, info, 32);
  shared.fill(0);
  return key;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export type KeyBoxContent = { type: 'key'; baseKey: Uint8Array } | { type: 'ack' };

export interface KeyBoxContext {
  roomId: string;
  from: string;
  to: string;
  kid: number;
}

const BOX_LABEL = utf8ToBytes('confide key box v1');
const TYPE_KEY = 1;
const TYPE_ACK = 2;
export const KEY_BOX_MAX_BYTES = 24 + 1 + BASE_KEY_BYTES + 16;

function boxAad(c: KeyBoxContext): Uint8Array {
  return encodeFields(BOX_LABEL, utf8ToBytes(c.roomId), utf8ToBytes(c.from), utf8ToBytes(c.to), byteField(c.kid, 'kid'));
}

export function sealKeyBox(pairwise: Uint8Array, ctx: KeyBoxContext, content: KeyBoxContent): Uint8Array {
  const body = content.type === 'key' ? concatBytes(new Uint8Array([TYPE_KEY]), content.baseKey) : new Uint8Array([TYPE_ACK]);
  const nonce = randomBytes(24);
  const sealed = xchacha20poly1305(pairwise, nonce, boxAad(ctx)).encrypt(body);
  body.fill(0);
  return concatBytes(nonce, sealed);
}

/** Throws on any tampering, wrong key or wrong context. */
export function openKeyBox(pairwise: Uint8Array, ctx: KeyBoxContext, box: Uint8Array): KeyBoxContent {
  if (box.length < 24 + 1 + 16 || box.length > KEY_BOX_MAX_BYTES) throw new Error('key box: bad length');
  const body = xchacha20poly1305(pairwise, box.subarray(0, 24), boxAad(ctx)).decrypt(box.subarray(24));
  if (body[0] === TYPE_KEY && body.length === 1 + BASE_KEY_BYTES) {
    const baseKey = body.slice(1);
    body.fill(0);
    return { type: 'key', baseKey };
  }
  if (body[0] === TYPE_ACK && body.length === 1) return { type: 'ack' };
  throw new Error('key box: unknown content');
}
