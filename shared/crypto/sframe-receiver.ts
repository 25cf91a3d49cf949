/**
 * Stateful SFrame receiver: imported AEAD key + salt + replay window per KID.
 *
 * - HKDF and the backend's importKey run once in addKey(), never per frame;
 *   the raw derived key bytes are zeroed right after import (backends copy
 *   what they need, see aead.ts), only the salt stays in JS memory.
 * - Replay window (per KID): highest CTR accepted plus a ring bitmap of the
 *   last REPLAY_WINDOW counters. A CTR already accepted, or <= top - WINDOW,
 *   is a 'replay'. 1024 frames covers ~12 s of 30 fps video plus 50 fps audio
 *   under one KID, far more reordering than a jitter buffer ever delivers.
 * - A CTR is marked seen only AFTER the tag verifies, so forged frames can't
 *   advance or fill the window.
 * - addKey() with the KID's current base key is a no-op (the window is kept:
 *   a duplicated key message must not reopen replays); with a different base
 *   key it replaces the key and starts a fresh window. removeKey() zeroes
 *   the salt (and the backend's key copy, if it has one) and forgets the
 *   window, so re-adding the same (KID, key) later reopens replay of old
 *   frames: use a fresh KID per key/epoch.
 * - Async: addKey()/removeKey() for one KID take effect in call order;
 *   decrypt() is safe to call concurrently (see its doc).
 * @module
 */
import { equalBytes } from '@noble/ciphers/utils.js';
import { isU64 } from './bytes.ts';
import { defaultAesGcm } from './aead.ts';
import type { AesGcmBackend, AesGcmKey } from './aead.ts';
import { SFrameError, decodeHeader, deriveKeyAndSalt, openFrame, suiteParams, wipeKey } from './sframe.ts';

export { SFrameError } from './sframe.ts';
export type { SFrameErrorCode } from './sframe.ts';

/** Number of most recent counters the replay window remembers, per KID. */
export const REPLAY_WINDOW = 1024;

const WINDOW_BIG = BigInt(REPLAY_WINDOW);

/**
 * Sliding replay window over 64-bit counters. check() is read-only; accept()
 * records a counter and must only be called after authentication.
 */
export class ReplayWindow {
  #top = -1n; // highest accepted CTR; -1 = none yet
  // Bit (ctr mod WINDOW) is set when ctr is accepted and still inside the window.
  readonly #bits = new Uint32Array(REPLAY_WINDOW / 32);

  /** Highest accepted CTR, or undefined before the first frame. */
  get top(): bigint | undefined {
    return this.#top < 0n ? undefined : this.#top;
  }

  /** True when `ctr` would be fresh: newer than top, or inside the window and unseen. */
  check(ctr: bigint): boolean {
    if (ctr > this.#top) return true;
    if (this.#top - ctr >= WINDOW_BIG) return false; // too old to tell: treat as replay
    return !this.#get(ctr);
  }

  /** Records `ctr`; caller has verified check(ctr) and the frame's tag. */
  accept(ctr: bigint): void {
    if (ctr > this.#top) {
      const jump = ctr - this.#top;
      if (jump >= WINDOW_BIG) this.#bits.fill(0);
      // Slots of the counters we jump over now stand for them: clear old marks.
      else for (let c = this.#top + 1n; c < ctr; c++) this.#set(c, false);
      this.#top = ctr;
    }
    this.#set(ctr, true);
  }

  #slot(ctr: bigint): number {
    return Number(ctr % WINDOW_BIG);
  }
  #get(ctr: bigint): boolean {
    const s = this.#slot(ctr);
    return (((this.#bits[s >>> 5] ?? 0) >>> (s & 31)) & 1) === 1;
  }
  #set(ctr: bigint, on: boolean): void {
    const s = this.#slot(ctr);
    const w = s >>> 5;
    const m = 1 << (s & 31);
    const cur = this.#bits[w] ?? 0;
    this.#bits[w] = on ? cur | m : cur & ~m;
  }
}

type Entry = { aesKey: AesGcmKey; salt: Uint8Array; window: ReplayWindow };

function destroy(e: Entry): void {
  e.salt.fill(0);
  e.aesKey.destroy?.();
}

export type SFrameReceived = { kid: bigint; ctr: bigint; plaintext: Uint8Array };

export class SFrameReceiver {
  readonly suite: number;
  readonly backend: AesGcmBackend;
  readonly #keys = new Map<bigint, Entry>();
  // Latest addKey() per KID whose import is still running; removeKey() or a
  // later addKey() for the KID replaces/deletes it, cancelling the older one.
  readonly #pending = new Map<bigint, number>();
  #seq = 0;

  constructor(suite: number, backend: AesGcmBackend = defaultAesGcm()) {
    suiteParams(suite); // fail fast on unsupported suites
    this.suite = suite;
    this.backend = backend;
  }

  hasKey(kid: bigint): boolean {
    return this.#keys.has(kid);
  }

  /** KIDs with an installed key. */
  get kids(): bigint[] {
    return [...this.#keys.keys()];
  }

  /**
   * Installs `baseKey` for `kid`: derives key+salt and imports the key once
   * (the raw derived key is zeroed right after). Calls for one KID take
   * effect in call order: if a later addKey()/removeKey() for the KID was
   * called while this one was importing, this one resolves without
   * installing anything. Until it resolves, the KID's previous key (if any)
   * stays in use.
   */
  async addKey(kid: bigint, baseKey: Uint8Array): Promise<void> {
    if (!isU64(kid)) throw new SFrameError('invalid-argument', 'KID must be a bigint in [0, 2^64-1]');
    const k = deriveKeyAndSalt(this.suite, baseKey, kid);
    // Same key again (same salt ⇔ same HKDF secret): keep the existing window,
    // and cancel any other key still importing for this KID.
    if (this.#installedIs(kid, k.salt)) {
      this.#pending.delete(kid);
      wipeKey(k);
      return;
    }
    const seq = ++this.#seq;
    this.#pending.set(kid, seq);
    let aesKey: AesGcmKey;
    try {
      aesKey = await this.backend.importKey(k.key);
    } catch (err) {
      if (this.#pending.get(kid) === seq) this.#pending.delete(kid);
      wipeKey(k);
      throw err;
    } finally {
      k.key.fill(0); // the backend holds its own copy (or a non-extractable key)
    }
    if (this.#pending.get(kid) !== seq || this.#installedIs(kid, k.salt)) {
      // Superseded by a later addKey()/removeKey() for this KID, or the same key got installed meanwhile.
      if (this.#pending.get(kid) === seq) this.#pending.delete(kid);
      k.salt.fill(0);
      aesKey.destroy?.();
      return;
    }
    this.#pending.delete(kid);
    const old = this.#keys.get(kid);
    this.#keys.set(kid, { aesKey, salt: k.salt, window: new ReplayWindow() });
    if (old) destroy(old);
  }

  #installedIs(kid: bigint, salt: Uint8Array): boolean {
    const e = this.#keys.get(kid);
    return e !== undefined && equalBytes(e.salt, salt);
  }

  /**
   * Forgets `kid`, zeroing its salt and dropping its imported key (zeroed too
   * when the backend holds bytes), and cancels an addKey() for it still in
   * flight. Returns whether a key was installed.
   */
  removeKey(kid: bigint): boolean {
    this.#pending.delete(kid);
    const e = this.#keys.get(kid);
    if (!e) return false;
    destroy(e);
    return this.#keys.delete(kid);
  }

  /**
   * Authenticates and decrypts one frame. Rejects with SFrameError code
   * 'malformed' | 'unknown-kid' | 'replay' | 'auth'.
   *
   * Concurrent calls are safe: the replay window is checked before
   * decrypting, and checked again and updated in one synchronous step after
   * the tag verified, so of two concurrent copies of a frame exactly one is
   * accepted. If the KID's key is removed ('unknown-kid') or replaced
   * ('auth') while the frame is being decrypted, the frame is rejected as it
   * would be if it arrived now.
   */
  async decrypt(metadata: Uint8Array, sframe: Uint8Array): Promise<SFrameReceived> {
    const header = decodeHeader(sframe);
    if (sframe.length < header.length + suiteParams(this.suite).Nt) {
      throw new SFrameError('malformed', 'frame shorter than header + tag');
    }
    const e = this.#keys.get(header.kid);
    if (!e) throw new SFrameError('unknown-kid', `no key for KID ${header.kid}`);
    // Cheap pre-check (no state change) so replays don't cost an AES pass.
    if (!e.window.check(header.ctr)) throw replay(header.ctr);
    const out = await openFrame(this.suite, e.aesKey, e.salt, metadata, sframe, header);
    // No await from here on: re-check and mark seen atomically.
    const now = this.#keys.get(header.kid);
    if (!now) throw new SFrameError('unknown-kid', `key for KID ${header.kid} was removed`);
    if (now !== e) throw new SFrameError('auth', `key for KID ${header.kid} was replaced`);
    if (!e.window.check(header.ctr)) throw replay(header.ctr);
    e.window.accept(header.ctr); // only after the tag verified
    return out;
  }
}

function replay(ctr: bigint): SFrameError {
  return new SFrameError('replay', `CTR ${ctr} replayed or too old`);
}
