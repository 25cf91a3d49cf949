/**
 * RFC 9605 (SFrame) core: header codec, key derivation and AEAD framing.
 *
 * Only the AES-GCM suites are implemented (the app never negotiates the
 * AES-CTR+HMAC ones):
 * - 0x0004 AES_128_GCM_SHA256_128: HKDF-SHA256, Nk=16, Nn=12, Nt=16
 * - 0x0005 AES_256_GCM_SHA512_128: HKDF-SHA512, Nk=32, Nn=12, Nt=16
 *
 * Pure: only @noble primitives, no globals, so the exact same code runs in
 * the browser Worker, in Node tests and in benchmarks. Stateless functions
 * here; counters, key caches and replay windows live in sframe-sender.ts and
 * sframe-receiver.ts.
 *
 * Two framing paths share one header/nonce/AAD builder: the synchronous RFC
 * functions (encrypt/decrypt/encryptWithKey/decryptWithKey, @noble gcm, the
 * reference) and async sealFrame/openFrame, which take an AEAD key imported
 * once through an AesGcmBackend (aead.ts; WebCrypto in the Worker, for speed).
 *
 * Header decoding policy: non-minimal KID/CTR encodings (a value < 8 in an
 * extended field, or a leading zero byte) are rejected as 'malformed'.
 * RFC 9605 §4.3 requires senders to use the minimum length; being strict on
 * receive keeps one wire form per (KID, CTR), and our sender never emits
 * anything else.
 * @module
 */
import { gcm } from '@noble/ciphers/aes.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ascii, byteLength, concatBytes, isU64, readUintBE, uintBE, writeUintBE } from './bytes.ts';
import type { AesGcmKey } from './aead.ts';

/** Cipher suite 0x0004: AES-128-GCM, HKDF-SHA256, 128-bit tag. */
export const AES_128_GCM_SHA256_128 = 0x0004;
/** Cipher suite 0x0005: AES-256-GCM, HKDF-SHA512, 128-bit tag. */
export const AES_256_GCM_SHA512_128 = 0x0005;

export type SFrameErrorCode =
  | 'malformed' // header or frame cannot be parsed (empty, truncated, non-minimal)
  | 'auth' // AEAD tag check failed: wrong key, tampered header/metadata/body/tag
  | 'unknown-kid' // receiver has no key for the frame's KID
  | 'replay' // CTR already accepted, or older than the replay window
  | 'no-key' // sender has no key installed
  | 'counter-exhausted' // sender's CTR would exceed 2^64-1
  | 'kid-reuse' // sender asked to reinstall a KID it already used
  | 'unsupported-suite'
  | 'invalid-argument';

/** Every failure of the SFrame code is one of these, so callers can switch on `code`. */
export class SFrameError extends Error {
  readonly code: SFrameErrorCode;
  constructor(code: SFrameErrorCode, message: string) {
    super(`sframe: ${code}: ${message}`);
    this.name = 'SFrameError';
    this.code = code;
  }
}

/** Per-suite parameters; `hash` drives HKDF. */
export type SuiteParams = {
  readonly id: number;
  readonly hash: typeof sha256 | typeof sha512;
  readonly Nk: number; // AEAD key bytes
  readonly Nn: number; // nonce bytes
  readonly Nt: number; // tag bytes
};

const SUITES: ReadonlyMap<number, SuiteParams> = new Map([
  [AES_128_GCM_SHA256_128, { id: AES_128_GCM_SHA256_128, hash: sha256, Nk: 16, Nn: 12, Nt: 16 }],
  [AES_256_GCM_SHA512_128, { id: AES_256_GCM_SHA512_128, hash: sha512, Nk: 32, Nn: 12, Nt: 16 }],
]);

/** Parameters of a supported suite; throws 'unsupported-suite' otherwise. */
export function suiteParams(suite: number): SuiteParams {
  const p = SUITES.get(suite);
  if (!p) throw new SFrameError('unsupported-suite', `cipher suite ${suite} is not supported`);
  return p;
}

/** Derived per-KID AEAD key and salt. Callers cache it instead of re-running HKDF per frame. */
export type SFrameKey = { readonly key: Uint8Array; readonly salt: Uint8Array };

/** Decoded header: `length` is the number of header bytes at the start of the frame. */
export type SFrameHeader = { kid: bigint; ctr: bigint; length: number };

function checkU64(x: bigint, what: string): void {
  if (!isU64(x)) throw new SFrameError('invalid-argument', `${what} must be a bigint in [0, 2^64-1]`);
}

function malformed(msg: string): never {
  throw new SFrameError('malformed', msg);
}

// ---------------------------------------------------------------- header

/**
 * Encodes the SFrame header (RFC 9605 §4.3): config byte X|K|Y|C, then the
 * extended KID and CTR, each big-endian on the minimum number of bytes.
 */
export function encodeHeader(kid: bigint, ctr: bigint): Uint8Array {
  checkU64(kid, 'KID');
  checkU64(ctr, 'CTR');
  // Values < 8 ride inline in the 3-bit K/C field; larger ones get 1..8 bytes.
  const kLen = kid < 8n ? 0 : byteLength(kid);
  const cLen = ctr < 8n ? 0 : byteLength(ctr);
  const out = new Uint8Array(1 + kLen + cLen);
  const k = kLen === 0 ? Number(kid) : 0x8 | (kLen - 1);
  const c = cLen === 0 ? Number(ctr) : 0x8 | (cLen - 1);
  out[0] = (k << 4) | c;
  writeUintBE(out, 1, kLen, kid);
  writeUintBE(out, 1 + kLen, cLen, ctr);
  return out;
}

// Reads one header field: the inline 3-bit value, or `bits+1` extended bytes.
function readField(frame: Uint8Array, pos: number, nibble: number, what: string): [bigint, number] {
  const bits = nibble & 0x7;
  if ((nibble & 0x8) === 0) return [BigInt(bits), pos];
  const len = bits + 1;
  if (pos + len > frame.length) malformed(`truncated ${what}`);
  // Minimal encoding only: no leading zero byte, and nothing that fits inline.
  if (frame[pos] === 0) malformed(`non-minimal ${what} (leading zero)`);
  const x = readUintBE(frame, pos, len);
  if (x < 8n) malformed(`non-minimal ${what} (fits inline)`);
  return [x, pos + len];
}

/** Parses the header at the start of `frame`; throws 'malformed' on empty/truncated/non-minimal input. */
export function decodeHeader(frame: Uint8Array): SFrameHeader {
  if (!(frame instanceof Uint8Array)) malformed('frame must be a Uint8Array');
  const cfg = frame[0];
  if (cfg === undefined) malformed('empty frame');
  const [kid, afterKid] = readField(frame, 1, cfg >> 4, 'KID');
  const [ctr, length] = readField(frame, afterKid, cfg & 0xf, 'CTR');
  return { kid, ctr, length };
}

// ------------------------------------------------------- key derivation

const KEY_LABEL = ascii('SFrame 1.0 Secret key ');
const SALT_LABEL = ascii('SFrame 1.0 Secret salt ');
const EMPTY = new Uint8Array(0);

/** HKDF-Expand info for the key: "SFrame 1.0 Secret key " || KID (8 B BE) || suite (2 B BE). */
export function sframeKeyLabel(suite: number, kid: bigint): Uint8Array {
  checkU64(kid, 'KID');
  return concatBytes(KEY_LABEL, uintBE(kid, 8), uintBE(BigInt(suite), 2));
}

/** HKDF-Expand info for the salt: "SFrame 1.0 Secret salt " || KID (8 B BE) || suite (2 B BE). */
export function sframeSaltLabel(suite: number, kid: bigint): Uint8Array {
  checkU64(kid, 'KID');
  return concatBytes(SALT_LABEL, uintBE(kid, 8), uintBE(BigInt(suite), 2));
}

/**
 * RFC 9605 §4.4.2: secret = HKDF-Extract("", base_key); key and salt are
 * HKDF-Expand of the secret with KID- and suite-bound labels.
 */
export function deriveKeyAndSalt(suite: number, baseKey: Uint8Array, kid: bigint): SFrameKey {
  const p = suiteParams(suite);
  checkU64(kid, 'KID');
  if (!(baseKey instanceof Uint8Array) || baseKey.length === 0) {
    throw new SFrameError('invalid-argument', 'base key must be a non-empty Uint8Array');
  }
  const secret = extract(p.hash, baseKey, EMPTY);
  const key = expand(p.hash, secret, sframeKeyLabel(suite, kid), p.Nk);
  const salt = expand(p.hash, secret, sframeSaltLabel(suite, kid), p.Nn);
  secret.fill(0); // the PRK is as sensitive as the base key; don't leave it to the GC
  return { key, salt };
}

// ------------------------------------------------------------- framing

/** nonce = salt XOR CTR, CTR left-padded with zeros to Nn bytes. */
export function makeNonce(salt: Uint8Array, ctr: bigint): Uint8Array {
  checkU64(ctr, 'CTR');
  const nonce = salt.slice();
  // CTR < 2^64 so only the last 8 bytes change.
  let x = ctr;
  for (let i = nonce.length - 1; x > 0n; i--) {
    nonce[i] = (nonce[i] ?? 0) ^ Number(x & 0xffn);
    x >>= 8n;
  }
  return nonce;
}

/** AAD = header || metadata: the header is authenticated, so KID/CTR can't be swapped. */
export function makeAad(header: Uint8Array, metadata: Uint8Array): Uint8Array {
  return concatBytes(header, metadata);
}

function checkKey(p: SuiteParams, k: SFrameKey): void {
  if (k.key.length !== p.Nk || k.salt.length !== p.Nn) {
    throw new SFrameError('invalid-argument', `derived key/salt must be ${p.Nk}/${p.Nn} bytes`);
  }
}

function checkSalt(p: SuiteParams, salt: Uint8Array): void {
  if (!(salt instanceof Uint8Array) || salt.length !== p.Nn) {
    throw new SFrameError('invalid-argument', `derived salt must be ${p.Nn} bytes`);
  }
}

// The AEAD inputs of one frame. Shared by the sync (noble) and async
// (AesGcmKey) paths, so header, nonce and AAD are built in one place only.
type SealInputs = { header: Uint8Array; nonce: Uint8Array; aad: Uint8Array };
type OpenInputs = { nonce: Uint8Array; aad: Uint8Array; body: Uint8Array };

function sealInputs(salt: Uint8Array, kid: bigint, ctr: bigint, metadata: Uint8Array): SealInputs {
  const header = encodeHeader(kid, ctr);
  return { header, nonce: makeNonce(salt, ctr), aad: makeAad(header, metadata) };
}

function openInputs(p: SuiteParams, salt: Uint8Array, metadata: Uint8Array, sframe: Uint8Array, header: SFrameHeader): OpenInputs {
  if (sframe.length < header.length + p.Nt) malformed('frame shorter than header + tag');
  return {
    nonce: makeNonce(salt, header.ctr),
    aad: makeAad(sframe.subarray(0, header.length), metadata),
    body: sframe.subarray(header.length),
  };
}

// Every tag failure looks the same to callers: don't echo the backend's message.
function authFailed(): never {
  throw new SFrameError('auth', 'authentication failed');
}

/** Encrypts with an already-derived key: returns header || ciphertext || tag (the RFC's `ct`). */
export function encryptWithKey(
  suite: number,
  k: SFrameKey,
  kid: bigint,
  ctr: bigint,
  metadata: Uint8Array,
  plaintext: Uint8Array
): Uint8Array {
  const p = suiteParams(suite);
  checkKey(p, k);
  const { header, nonce, aad } = sealInputs(k.salt, kid, ctr, metadata);
  return concatBytes(header, gcm(k.key, nonce, aad).encrypt(plaintext));
}

/**
 * Decrypts with an already-derived key. `header` may be passed when the
 * caller already parsed it (to pick the key by KID) so it isn't parsed twice.
 * Throws 'malformed' if the frame can't hold header + tag, 'auth' if the tag
 * doesn't verify.
 */
export function decryptWithKey(
  suite: number,
  k: SFrameKey,
  metadata: Uint8Array,
  sframe: Uint8Array,
  header: SFrameHeader = decodeHeader(sframe)
): { kid: bigint; ctr: bigint; plaintext: Uint8Array } {
  const p = suiteParams(suite);
  checkKey(p, k);
  const { nonce, aad, body } = openInputs(p, k.salt, metadata, sframe, header);
  let plaintext: Uint8Array;
  try {
    plaintext = gcm(k.key, nonce, aad).decrypt(body);
  } catch {
    authFailed();
  }
  return { kid: header.kid, ctr: header.ctr, plaintext };
}

/**
 * Async encryptWithKey for an AEAD key imported once through an
 * AesGcmBackend (aead.ts), e.g. a cached WebCrypto key. `aesKey` must be the
 * import of deriveKeyAndSalt(suite, …, kid).key and `salt` its salt.
 * Header, nonce and AAD are built synchronously, before the first await, so
 * the caller may wipe `salt` as soon as this returns its promise.
 * Returns `lead` || header || ciphertext || tag: `lead` (default empty) is
 * copied in front so that a caller framing the result (media-frame.ts puts
 * the clear codec prefix there) needs no second copy of the whole frame.
 * With an empty `lead`, the same output as encryptWithKey, byte for byte.
 */
export async function sealFrame(
  suite: number,
  aesKey: AesGcmKey,
  salt: Uint8Array,
  kid: bigint,
  ctr: bigint,
  metadata: Uint8Array,
  plaintext: Uint8Array,
  lead: Uint8Array = EMPTY
): Promise<Uint8Array> {
  const p = suiteParams(suite);
  checkSalt(p, salt);
  const { header, nonce, aad } = sealInputs(salt, kid, ctr, metadata);
  return concatBytes(lead, header, await aesKey.seal(nonce, aad, plaintext));
}

/**
 * Async decryptWithKey for an imported AEAD key (see sealFrame). Rejects
 * with 'malformed' if the frame can't hold header + tag, 'auth' if the tag
 * doesn't verify.
 */
export async function openFrame(
  suite: number,
  aesKey: AesGcmKey,
  salt: Uint8Array,
  metadata: Uint8Array,
  sframe: Uint8Array,
  header: SFrameHeader = decodeHeader(sframe)
): Promise<{ kid: bigint; ctr: bigint; plaintext: Uint8Array }> {
  const p = suiteParams(suite);
  checkSalt(p, salt);
  const { nonce, aad, body } = openInputs(p, salt, metadata, sframe, header);
  let plaintext: Uint8Array;
  try {
    plaintext = await aesKey.open(nonce, aad, body);
  } catch {
    authFailed();
  }
  return { kid: header.kid, ctr: header.ctr, plaintext };
}

/** One-shot encrypt (derives the key every call; stateful code should cache via deriveKeyAndSalt). */
export function encrypt(
  suite: number,
  baseKey: Uint8Array,
  kid: bigint,
  ctr: bigint,
  metadata: Uint8Array,
  plaintext: Uint8Array
): Uint8Array {
  checkU64(kid, 'KID');
  checkU64(ctr, 'CTR');
  const k = deriveKeyAndSalt(suite, baseKey, kid);
  try {
    return encryptWithKey(suite, k, kid, ctr, metadata, plaintext);
  } finally {
    wipeKey(k);
  }
}

/** One-shot decrypt: KID comes from the header; throws SFrameError on any failure. */
export function decrypt(
  suite: number,
  baseKey: Uint8Array,
  metadata: Uint8Array,
  sframe: Uint8Array
): { kid: bigint; ctr: bigint; plaintext: Uint8Array } {
  suiteParams(suite);
  const header = decodeHeader(sframe);
  const k = deriveKeyAndSalt(suite, baseKey, header.kid);
  try {
    return decryptWithKey(suite, k, metadata, sframe, header);
  } finally {
    wipeKey(k);
  }
}

/** Zeroes a derived key in place (the object stays, its bytes become 0). */
export function wipeKey(k: SFrameKey): void {
  k.key.fill(0);
  k.salt.fill(0);
}
