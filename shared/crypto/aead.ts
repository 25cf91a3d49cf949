/**
 * Pluggable AES-GCM (128-bit tag, 96-bit nonce) for the stateful SFrame code.
 *
 * Why two backends: @noble/ciphers' pure-JS GCM is the reference (audited,
 * synchronous, runs anywhere) but on our 2-core VM it costs ~0.35 ms per
 * 6 KB and ~4.8 ms per 100 KB frame (encrypt+decrypt), far over the
 * 0.15 ms / 2 ms per-frame budgets. WebCrypto with the key imported once
 * (non-extractable CryptoKey, cached per KID) does the same work natively in
 * ~0.09 ms / ~0.31 ms. `globalThis.crypto.subtle` is the same API in browser
 * Workers, pages and Node >= 20, so shared/ still touches no DOM- or
 * Node-specific global. noble stays the reference (the stateless RFC
 * functions in sframe.ts use it, and tests check both backends against the
 * RFC vectors) and the fallback where `crypto.subtle` is missing (e.g. a
 * page served from an insecure origin).
 * @module
 */
import { gcm } from '@noble/ciphers/aes.js';

/** An imported AES-GCM key. Both methods take/return tag-appended ciphertext (ct || 16-byte tag). */
export interface AesGcmKey {
  /** Encrypts and authenticates; returns ciphertext || tag. */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /** Verifies and decrypts ciphertext || tag. Rejects (any error) when authentication fails. */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Promise<Uint8Array>;
  /**
   * Zeroes key material the backend holds in JS memory, if any; the key
   * is unusable afterwards. Optional: a non-extractable CryptoKey has no
   * bytes we could reach, it is simply dropped.
   */
  destroy?(): void;
}

/**
 * Contract: importKey() copies what it needs before its promise settles,
 * so callers zero the raw key bytes as soon as it resolves.
 */
export type AesGcmBackend = { name: string; importKey(key: Uint8Array): Promise<AesGcmKey> };

function checkKeyLength(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || (key.length !== 16 && key.length !== 24 && key.length !== 32)) {
    throw new Error('aes-gcm: key must be 16, 24 or 32 bytes');
  }
}

/** @noble/ciphers gcm: the reference, and the fallback without WebCrypto. */
export const nobleAesGcm: AesGcmBackend = {
  name: 'noble',
  // async so argument errors reject, as WebCrypto's do
  async importKey(raw: Uint8Array): Promise<AesGcmKey> {
    checkKeyLength(raw);
    // noble expands the key on every call, so keep a private copy the caller can't wipe under us.
    let key: Uint8Array | undefined = raw.slice();
    const live = (): Uint8Array => {
      if (!key) throw new Error('aes-gcm: key destroyed');
      return key;
    };
    // The work runs synchronously inside the call: once seal()/open() has
    // returned its promise, destroy() can no longer affect that operation.
    return {
      seal: async (nonce, aad, plaintext) => gcm(live(), nonce, aad).encrypt(plaintext),
      open: async (nonce, aad, sealed) => gcm(live(), nonce, aad).decrypt(sealed),
      destroy: () => {
        key?.fill(0);
        key = undefined;
      },
    };
  },
};

// WebCrypto's BufferSource wants ArrayBuffer-backed views; ours always are
// (SharedArrayBuffer-backed input would be rejected by subtle anyway). A type
// cast only: no call per frame.
type Buf = Uint8Array<ArrayBuffer>;
const bytes = (b: ArrayBuffer): Uint8Array => new Uint8Array(b);

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('aes-gcm: globalThis.crypto.subtle is not available');
  return s;
}

/** globalThis.crypto.subtle: non-extractable key imported once, 128-bit tag. */
export const webCryptoAesGcm: AesGcmBackend = {
  name: 'webcrypto',
  async importKey(raw: Uint8Array): Promise<AesGcmKey> {
    checkKeyLength(raw);
    const s = subtle();
    // importKey copies the bytes when called; extractable=false keeps them out of JS from here on.
    const key = await s.importKey('raw', raw as Buf, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    // Per frame: no async wrapper of our own around subtle's promise (one promise and
    // microtask fewer per frame in the frame Worker); subtle rejects, never throws.
    return {
      seal: (nonce, aad, plaintext) =>
        s.encrypt({ name: 'AES-GCM', iv: nonce as Buf, additionalData: aad as Buf, tagLength: 128 }, key, plaintext as Buf).then(bytes),
      open: (nonce, aad, sealed) =>
        s.decrypt({ name: 'AES-GCM', iv: nonce as Buf, additionalData: aad as Buf, tagLength: 128 }, key, sealed as Buf).then(bytes),
    };
  },
};

/** WebCrypto when `globalThis.crypto.subtle` exists (browsers, Workers, Node >= 20), else noble. */
export function defaultAesGcm(): AesGcmBackend {
  return typeof globalThis.crypto?.subtle?.encrypt === 'function' ? webCryptoAesGcm : nobleAesGcm;
}
