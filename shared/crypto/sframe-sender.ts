/**
 * Stateful SFrame sender: one current (KID, imported AEAD key, salt, counter).
 *
 * - HKDF and the backend's importKey run once in setKey(), never per frame;
 *   the raw derived key bytes are zeroed right after import (backends copy
 *   what they need, see aead.ts), only the salt stays in JS memory.
 * - CTR starts at 0 (or `startCounter`) for each new key and only grows;
 *   past 2^64-1 encrypt() throws 'counter-exhausted' forever (no wrap).
 * - Never reuses (key, KID, CTR): a (KID, base key) pair installed once can't
 *   be installed again after being replaced, since its counter state is gone
 *   ('kid-reuse'). Re-setting the *current* pair is a no-op and the counter
 *   continues (duplicate key delivery must not rewind CTR). A KID value may
 *   come back with a *new* base key (Confide's one-byte KIDs wrap): the AEAD
 *   key differs, so its counter restarting at 0 reuses no nonce.
 * - No key → encrypt() throws 'no-key' (callers rely on this to fail closed).
 *
 * Async rules (importKey is async, encrypt is async):
 * - encrypt() takes its CTR synchronously, before its first await, so
 *   concurrent calls never share a CTR.
 * - setKey()/clearKey() requests are ordered by when they are *called*:
 *   "current" for the kid-reuse/idempotency rules means the last requested
 *   key. While a setKey() is importing, the previously installed key keeps
 *   encrypting. A finished import is installed only if nothing newer has
 *   been installed or cleared meanwhile, so after racing setKey() calls the
 *   last one requested wins; a superseded one resolves without installing
 *   (its KID stays retired, it never encrypted anything).
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { U64_MAX, concatBytes, isU64, uintBE } from './bytes.ts';
import { defaultAesGcm } from './aead.ts';
import type { AesGcmBackend, AesGcmKey } from './aead.ts';
import { SFrameError, deriveKeyAndSalt, sealFrame, suiteParams } from './sframe.ts';

export type SetKeyOptions = {
  /**
   * First CTR to use for this key (default 0n). Meant for tests (e.g. start
   * next to 2^64-1) and for resuming a counter persisted elsewhere; never
   * pass a value that was already used with this key.
   */
  startCounter?: bigint;
};

type Current = { kid: bigint; aesKey: AesGcmKey; salt: Uint8Array; ctr: bigint };

// A requested key (installed or still importing). The salt identifies the
// key for the idempotency check: key and salt come from one HKDF secret.
// `prev` is what was current when it was requested, to fall back to if its
// import fails; it is only kept while the request is in flight.
type Requested = {
  seq: number;
  kid: bigint;
  salt: Uint8Array;
  fingerprint: string;
  done: Promise<void>;
  prev: Requested | undefined;
  failed: boolean;
};

function destroy(c: Current): void {
  c.salt.fill(0);
  c.aesKey.destroy?.();
}

export class SFrameSender {
  readonly suite: number;
  readonly backend: AesGcmBackend;
  #cur: Current | undefined;
  #requested: Requested | undefined;
  #seq = 0; // request order of setKey()/clearKey() calls
  #installedSeq = 0; // seq of the request #cur reflects
  // (KID, key) pairs ever requested here, as hashes: no key material is retained.
  readonly #used = new Set<string>();

  constructor(suite: number, backend: AesGcmBackend = defaultAesGcm()) {
    suiteParams(suite); // fail fast on unsupported suites
    this.suite = suite;
    this.backend = backend;
  }

  /** KID of the current (installed) key, or undefined when no key is set. */
  get kid(): bigint | undefined {
    return this.#cur?.kid;
  }

  get hasKey(): boolean {
    return this.#cur !== undefined;
  }

  /** CTR the next encrypt() will use (undefined when no key). May be 2^64 once exhausted. */
  get nextCounter(): bigint | undefined {
    return this.#cur?.ctr;
  }

  /**
   * Installs `baseKey` under `kid`: derives key+salt and imports the key
   * once; the previous key is wiped when the new one is installed.
   * Resolves once installed (or superseded by a later setKey/clearKey).
   */
  async setKey(kid: bigint, baseKey: Uint8Array, opts: SetKeyOptions = {}): Promise<void> {
    const start = opts.startCounter ?? 0n;
    if (!isU64(kid)) throw new SFrameError('invalid-argument', 'KID must be a bigint in [0, 2^64-1]');
    if (!isU64(start)) throw new SFrameError('invalid-argument', 'startCounter must be in [0, 2^64-1]');
    const k = deriveKeyAndSalt(this.suite, baseKey, kid);
    const last = this.#requested;
    // Key and salt come from one HKDF secret, so the salt identifies the key.
    const fingerprint = bytesToHex(sha256(concatBytes(uintBE(kid, 8), k.salt)));
    if (this.#used.has(fingerprint)) {
      k.key.fill(0);
      k.salt.fill(0);
      if (last?.fingerprint === fingerprint) return last.done; // idempotent: keep the running counter
      throw new SFrameError('kid-reuse', `KID ${kid} was already used with this key by this sender`);
    }
    // Claim the (KID, key) pair and become "current" synchronously, before any await.
    this.#used.add(fingerprint);
    const req: Requested = {
      seq: ++this.#seq,
      kid,
      salt: k.salt,
      fingerprint,
      done: Promise.resolve(),
      prev: last,
      failed: false,
    };
    this.#requested = req;
    req.done = this.#install(req, k.key, start);
    return req.done;
  }

  async #install(req: Requested, key: Uint8Array, ctr: bigint): Promise<void> {
    let aesKey: AesGcmKey;
    try {
      aesKey = await this.backend.importKey(key);
    } catch (err) {
      // Nothing was encrypted under this KID: release it, and if this was the
      // latest request, what was current before it is current again.
      req.failed = true;
      req.salt.fill(0);
      this.#used.delete(req.fingerprint);
      if (this.#requested === req) {
        let r = req.prev;
        while (r?.failed) r = r.prev;
        this.#requested = r;
      }
      throw err;
    } finally {
      key.fill(0); // the backend holds its own copy (or a non-extractable key)
    }
    req.prev = undefined;
    if (req.seq < this.#installedSeq) {
      // A later setKey() or clearKey() already took effect: drop this one.
      req.salt.fill(0);
      aesKey.destroy?.();
      return;
    }
    const old = this.#cur;
    this.#cur = { kid: req.kid, aesKey, salt: req.salt, ctr };
    this.#installedSeq = req.seq;
    if (old) destroy(old);
  }

  /** Wipes the current key; encrypt() fails closed until setKey() is called again. Cancels pending setKey()s. */
  clearKey(): void {
    this.#installedSeq = ++this.#seq;
    this.#requested = undefined;
    if (this.#cur) destroy(this.#cur);
    this.#cur = undefined;
  }

  /**
   * Returns `lead` || header || ciphertext || tag for the next CTR (`lead`
   * defaults to empty: the RFC's output; see sealFrame).
   */
  async encrypt(metadata: Uint8Array, plaintext: Uint8Array, lead?: Uint8Array): Promise<Uint8Array> {
    // Everything up to sealFrame()'s first await runs synchronously: the CTR
    // is taken, and nonce/header built, before any other call can run.
    const cur = this.#cur;
    if (!cur) throw new SFrameError('no-key', 'no sender key set');
    const ctr = cur.ctr;
    if (ctr > U64_MAX) throw new SFrameError('counter-exhausted', 'CTR space exhausted; rotate the key');
    // Consume the CTR before encrypting: even if encryption throws, it is never reused.
    cur.ctr = ctr + 1n;
    return sealFrame(this.suite, cur.aesKey, cur.salt, cur.kid, ctr, metadata, plaintext, lead);
  }
}
