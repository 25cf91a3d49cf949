import { gcm } from '@noble/ciphers/aes.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nobleAesGcm, webCryptoAesGcm } from '../../shared/crypto/aead.ts';
import type { AesGcmBackend } from '../../shared/crypto/aead.ts';

// Pass-through spy: lets a test see the key bytes the noble backend hands to gcm().
vi.mock(import('@noble/ciphers/aes.js'), async (importOriginal) => {
  const mod = await importOriginal();
  return { ...mod, gcm: vi.fn(mod.gcm) as unknown as typeof mod.gcm };
});

const h = hexToBytes;
const hex = bytesToHex;
const BACKENDS: AesGcmBackend[] = [webCryptoAesGcm, nobleAesGcm];

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + 1) & 0xff;
  return b;
}

function flip(b: Uint8Array, i: number): Uint8Array {
  const out = b.slice();
  out[i] = (out[i] ?? 0) ^ 0x01;
  return out;
}

afterEach(() => {
  vi.restoreAllMocks(); // the subtle spies; the module mock above stays a pass-through
});

// NIST SP 800-38D / McGrew–Viega GCM spec, test case 4 (AES-128, 96-bit IV, AAD).
const TC4 = {
  key: 'feffe9928665731c6d6a8f9467308308',
  iv: 'cafebabefacedbaddecaf888',
  aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
  pt:
    'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
  ct:
    '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091' +
    '5bc94fbc3221a5db94fae95ae7121a47',
};

describe.each(BACKENDS)('AES-GCM backend $name', (backend) => {
  it('matches the GCM spec test case 4 (ciphertext || 128-bit tag) and opens it', async () => {
    const k = await backend.importKey(h(TC4.key));
    expect(hex(await k.seal(h(TC4.iv), h(TC4.aad), h(TC4.pt)))).toBe(TC4.ct);
    expect(hex(await k.open(h(TC4.iv), h(TC4.aad), h(TC4.ct)))).toBe(TC4.pt);
  });

  it('agrees with noble gcm for both key sizes and many lengths, also for subarray views', async () => {
    for (const nk of [16, 32]) {
      const raw = bytes(nk, nk);
      const k = await backend.importKey(raw);
      for (const n of [0, 1, 15, 16, 17, 100, 6144, 102_400]) {
        const nonce = bytes(12, n);
        const aad = bytes(n % 7, 3);
        const big = bytes(n + 10, 9);
        const pt = big.subarray(5, 5 + n); // views into a larger buffer must only use their bytes
        const ref = gcm(raw, nonce, aad).encrypt(pt);
        const sealed = await k.seal(nonce, aad, pt);
        expect(sealed.length).toBe(n + 16);
        expect(hex(sealed), `Nk=${nk} n=${n}`).toBe(hex(ref));
        expect(hex(await k.open(nonce, aad, sealed))).toBe(hex(pt));
      }
    }
  });

  it('does not depend on the caller keeping the raw key bytes (callers wipe them after import)', async () => {
    const raw = bytes(16, 1);
    const ref = gcm(raw.slice(), bytes(12, 2), bytes(3, 3)).encrypt(bytes(40, 4));
    const k = await backend.importKey(raw);
    raw.fill(0);
    expect(hex(await k.seal(bytes(12, 2), bytes(3, 3), bytes(40, 4)))).toBe(hex(ref));
  });

  it('open() rejects on any change to nonce, AAD, ciphertext or tag, and on a wrong key', async () => {
    const k = await backend.importKey(bytes(16, 1));
    const nonce = bytes(12, 2);
    const aad = bytes(5, 3);
    const sealed = await k.seal(nonce, aad, bytes(33, 4));
    await expect(k.open(flip(nonce, 11), aad, sealed)).rejects.toThrow();
    await expect(k.open(nonce, flip(aad, 0), sealed)).rejects.toThrow();
    await expect(k.open(nonce, aad.subarray(1), sealed)).rejects.toThrow();
    for (const i of [0, 32, 33, sealed.length - 1]) await expect(k.open(nonce, aad, flip(sealed, i))).rejects.toThrow();
    await expect(k.open(nonce, aad, sealed.subarray(0, 15))).rejects.toThrow();
    const other = await backend.importKey(bytes(16, 5));
    await expect(other.open(nonce, aad, sealed)).rejects.toThrow();
    expect((await k.open(nonce, aad, sealed)).length).toBe(33);
  });

  it('rejects keys that are not 16, 24 or 32 bytes', async () => {
    for (const n of [0, 8, 15, 17, 31, 33, 64]) await expect(backend.importKey(new Uint8Array(n))).rejects.toThrow();
  });
});

describe('webCryptoAesGcm', () => {
  it('imports once, non-extractable, for encrypt/decrypt only, and asks for a 128-bit tag', async () => {
    const subtle = globalThis.crypto.subtle;
    const importKey = vi.spyOn(subtle, 'importKey');
    const encrypt = vi.spyOn(subtle, 'encrypt');
    const decrypt = vi.spyOn(subtle, 'decrypt');
    const k = await webCryptoAesGcm.importKey(bytes(16, 1));
    for (let i = 0; i < 3; i++) await k.open(bytes(12, i), bytes(0, 0), await k.seal(bytes(12, i), bytes(0, 0), bytes(10, i)));
    expect(importKey).toHaveBeenCalledTimes(1);
    const [format, , alg, extractable, usages] = importKey.mock.calls[0]!;
    expect(format).toBe('raw');
    expect(alg).toEqual({ name: 'AES-GCM' });
    expect(extractable).toBe(false);
    expect(usages).toEqual(['encrypt', 'decrypt']);
    expect(encrypt).toHaveBeenCalledTimes(3);
    expect(decrypt).toHaveBeenCalledTimes(3);
    for (const call of [...encrypt.mock.calls, ...decrypt.mock.calls]) {
      expect(call[0]).toMatchObject({ name: 'AES-GCM', tagLength: 128 });
    }
    const key = (await importKey.mock.results[0]!.value) as CryptoKey;
    expect(key.extractable).toBe(false);
    await expect(subtle.exportKey('raw', key)).rejects.toThrow();
  });

  it('rejects importKey where crypto.subtle is missing', async () => {
    vi.stubGlobal('crypto', undefined);
    try {
      await expect(webCryptoAesGcm.importKey(bytes(16, 1))).rejects.toThrow('crypto.subtle is not available');
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('nobleAesGcm', () => {
  it('destroy() zeroes its key copy and makes the key unusable', async () => {
    const k = await nobleAesGcm.importKey(bytes(16, 1));
    const sealed = await k.seal(bytes(12, 2), bytes(0, 0), bytes(8, 3));
    expect(k.destroy).toBeTypeOf('function');
    k.destroy!();
    // Never falls back to an all-zero key.
    await expect(k.seal(bytes(12, 2), bytes(0, 0), bytes(8, 3))).rejects.toThrow('destroyed');
    await expect(k.open(bytes(12, 2), bytes(0, 0), sealed)).rejects.toThrow('destroyed');
  });

  it('destroy() wipes the very bytes it encrypted with', async () => {
    // Observe the copy through what noble's gcm() is handed.
    const spy = vi.mocked(gcm);
    spy.mockClear();
    const k = await nobleAesGcm.importKey(bytes(16, 1));
    await k.seal(bytes(12, 2), bytes(0, 0), bytes(8, 3));
    const seen = spy.mock.calls.map((c) => c[0]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.some((b) => b !== 0)).toBe(true);
    k.destroy!();
    expect(seen[0]!.every((b) => b === 0)).toBe(true);
  });
});
