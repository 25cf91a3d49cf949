/**
 * End-to-end encryption of chat messages and files (wire schema: shared/protocol/chat.ts).
 *
 * - chat key: HKDF-SHA256(ikm = sender's media base key, salt = "confide chat v1",
 *   info = "confide chat key", 32 B). The salt makes the extract step differ
 *   from SFrame's (empty salt) and from the RFC 9605 ratchet (which expands
 *   the base key directly), so a chat key never equals, and reveals nothing
 *   about, any media key; and the same AEAD key is never used for two
 *   purposes. It follows the key agreement for free: whoever may decrypt a
 *   sender's media under a KID may read its chat under that KID, and nobody
 *   else (a newcomer gets only ratcheted keys, a leaver no new ones).
 * - chunk box: nonce (24 B random) ‖ XChaCha20-Poly1305(chatKey, nonce, aad, plaintext).
 *   XChaCha's 192-bit nonce is safe to draw at random for any number of chunks.
 * - aad = F("confide chat chunk v1") ‖ F(roomId) ‖ F(from) ‖ F(kid: 1 B) ‖ F(id)
 *         ‖ F(index: 4 B BE) ‖ F(total: 4 B BE),  F(x) = len(x) (2 B BE) ‖ x.
 *   Binding every routing field the relay sees means the server can neither
 *   move a chunk to another room, sender, message or position, nor change a
 *   message's chunk count (truncation), without the tag failing.
 * @module
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { lengthPrefixed } from './bytes.ts';

export const CHAT_KEY_BYTES = 32;
export const CHAT_NONCE_BYTES = 24;
export const CHAT_TAG_BYTES = 16;
/** Bytes a box adds to its plaintext. */
export const CHAT_BOX_OVERHEAD = CHAT_NONCE_BYTES + CHAT_TAG_BYTES;

const KEY_SALT = utf8ToBytes('confide chat v1');
const KEY_INFO = utf8ToBytes('confide chat key');
const AAD_LABEL = utf8ToBytes('confide chat chunk v1');

/** Where a chunk belongs: everything the relay sees about it, plus the room. */
export interface ChatChunkContext {
  roomId: string;
  /** The sender's participant id. */
  from: string;
  /** KID of the sender's base key the chat key comes from (0..255). */
  kid: number;
  /** Message id (32 lower-case hex on the wire). */
  id: string;
  index: number;
  total: number;
}

/** The chat key for a sender's base key (32 bytes). Separate from every media key. */
export function deriveChatKey(baseKey: Uint8Array): Uint8Array {
  if (baseKey.length !== 32) throw new Error('chat: base key must be 32 bytes');
  return hkdf(sha256, baseKey, KEY_SALT, KEY_INFO, CHAT_KEY_BYTES);
}

function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
}

/** The AAD of a chunk; throws on an out-of-range context. */
export function chatChunkAad(c: ChatChunkContext): Uint8Array {
  if (!Number.isInteger(c.kid) || c.kid < 0 || c.kid > 255) throw new Error('chat: bad kid');
  if (!isU32(c.index) || !isU32(c.total) || c.index >= c.total) throw new Error('chat: bad index');
  return lengthPrefixed(
    AAD_LABEL,
    utf8ToBytes(c.roomId),
    utf8ToBytes(c.from),
    new Uint8Array([c.kid]),
    utf8ToBytes(c.id),
    u32(c.index),
    u32(c.total),
  );
}

function checkKey(chatKey: Uint8Array): void {
  if (chatKey.length !== CHAT_KEY_BYTES) throw new Error('chat: key must be 32 bytes');
}

/** nonce ‖ ciphertext ‖ tag. */
export function sealChatChunk(chatKey: Uint8Array, ctx: ChatChunkContext, plaintext: Uint8Array): Uint8Array<ArrayBuffer> {
  checkKey(chatKey);
  const aad = chatChunkAad(ctx);
  const nonce = randomBytes(CHAT_NONCE_BYTES);
  const sealed = xchacha20poly1305(chatKey, nonce, aad).encrypt(plaintext);
  const box = new Uint8Array(CHAT_NONCE_BYTES + sealed.length);
  box.set(nonce);
  box.set(sealed, CHAT_NONCE_BYTES);
  return box;
}

/** The plaintext; throws on any tampering, wrong key or wrong context. */
export function openChatChunk(chatKey: Uint8Array, ctx: ChatChunkContext, box: Uint8Array): Uint8Array {
  checkKey(chatKey);
  if (box.length < CHAT_BOX_OVERHEAD) throw new Error('chat: box too short');
  const aad = chatChunkAad(ctx);
  try {
    return xchacha20poly1305(chatKey, box.subarray(0, CHAT_NONCE_BYTES), aad).decrypt(box.subarray(CHAT_NONCE_BYTES));
  } catch {
    throw new Error('chat: authentication failed');
  }
}
