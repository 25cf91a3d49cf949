/**
 * Sealing a chat transcript (and its files) for storage in the browser tab
 * that received it, so it survives a reload but not the tab.
 *
 * - tab key: 32 random bytes drawn once per tab, kept in sessionStorage (which
 *   lives exactly as long as the tab); never leaves the page.
 * - per-consultation key: HKDF-SHA256(ikm = tab key, salt = "confide transcript v1",
 *   info = F("key") ‖ F(roomId), 32 B), so one consultation's records never
 *   open as another's.
 * - tag: HKDF-SHA256(same ikm and salt, info = F("tag"), 8 B) in hex: names the
 *   records of one tab key (to find those no live tab can open) without
 *   revealing anything about the key.
 * - box: nonce (24 B random) ‖ XChaCha20-Poly1305(key, nonce, aad, plaintext), with
 *   aad = F("confide transcript v1") ‖ F(roomId)                   for the transcript,
 *   aad = F("confide transcript file v1") ‖ F(roomId) ‖ F(messageId) for a file,
 *   so a record can be neither moved to another consultation or message nor
 *   altered without failing to open.
 * Pure: no storage, no DOM.
 * @module
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { concatBytes, lengthPrefixed } from './bytes.ts';

export const TAB_KEY_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const SALT = utf8ToBytes('confide transcript v1');
const TRANSCRIPT_LABEL = utf8ToBytes('confide transcript v1');
const FILE_LABEL = utf8ToBytes('confide transcript file v1');

function checkTabKey(tabKey: Uint8Array): void {
  if (tabKey.length !== TAB_KEY_BYTES) throw new Error('transcript: tab key must be 32 bytes');
}

/** The key that seals one consultation's records (32 bytes). Throws on a tab key that is not 32 bytes. */
export function transcriptKey(tabKey: Uint8Array, roomId: string): Uint8Array {
  checkTabKey(tabKey);
  return hkdf(sha256, tabKey, SALT, lengthPrefixed(utf8ToBytes('key'), utf8ToBytes(roomId)), 32);
}

/** 16 hex characters naming the records of a tab key. */
export function tabKeyTag(tabKey: Uint8Array): string {
  checkTabKey(tabKey);
  return bytesToHex(hkdf(sha256, tabKey, SALT, lengthPrefixed(utf8ToBytes('tag')), 8));
}

function seal(key: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  return concatBytes(nonce, xchacha20poly1305(key, nonce, aad).encrypt(plaintext));
}

function open(key: Uint8Array, aad: Uint8Array, box: Uint8Array): Uint8Array {
  if (box.length < NONCE_BYTES + TAG_BYTES) throw new Error('transcript: box too short');
  try {
    return xchacha20poly1305(key, box.subarray(0, NONCE_BYTES), aad).decrypt(box.subarray(NONCE_BYTES));
  } catch {
    throw new Error('transcript: authentication failed');
  }
}

const transcriptAad = (roomId: string) => lengthPrefixed(TRANSCRIPT_LABEL, utf8ToBytes(roomId));
const fileAad = (roomId: string, messageId: string) => lengthPrefixed(FILE_LABEL, utf8ToBytes(roomId), utf8ToBytes(messageId));

/** nonce ‖ ciphertext ‖ tag of a transcript (`key` from transcriptKey). */
export function sealTranscript(key: Uint8Array, roomId: string, plaintext: Uint8Array): Uint8Array {
  return seal(key, transcriptAad(roomId), plaintext);
}

/** The transcript's plaintext; throws if it was altered, or sealed under another key or consultation. */
export function openTranscript(key: Uint8Array, roomId: string, box: Uint8Array): Uint8Array {
  return open(key, transcriptAad(roomId), box);
}

/** nonce ‖ ciphertext ‖ tag of a file's bytes stored for message `messageId`. */
export function sealStoredFile(key: Uint8Array, roomId: string, messageId: string, bytes: Uint8Array): Uint8Array {
  return seal(key, fileAad(roomId, messageId), bytes);
}

/** A stored file's bytes; throws if altered, or sealed for another key, consultation or message. */
export function openStoredFile(key: Uint8Array, roomId: string, messageId: string, box: Uint8Array): Uint8Array {
  return open(key, fileAad(roomId, messageId), box);
}
