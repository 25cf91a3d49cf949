import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  CHAT_BOX_OVERHEAD,
  deriveChatKey,
  openChatChunk,
  sealChatChunk,
  type ChatChunkContext,
} from '../../shared/crypto/chat-crypto.ts';
import { deriveKeyAndSalt, encrypt } from '../../shared/crypto/sframe.ts';
import { ratchetBaseKey } from '../../shared/crypto/key-schedule.ts';
import { SUITE } from '../../shared/crypto/media-suite.ts';

const base = new Uint8Array(32).map((_, i) => i + 1);
const ctx: ChatChunkContext = { roomId: 'room-1', from: 'peer-a', kid: 0x21, id: 'ab'.repeat(16), index: 2, total: 5 };
const plain = utf8ToBytes('Ordonnance : 1 comprimé matin et soir');

function flip(b: Uint8Array, i: number): Uint8Array {
  const out = b.slice();
  out[i] = (out[i] ?? 0) ^ 0x01;
  return out;
}

/** The AAD as docs describe it, built independently of the module. */
function specAad(c: ChatChunkContext): Uint8Array {
  const F = (x: Uint8Array) => concatBytes(new Uint8Array([x.length >> 8, x.length & 0xff]), x);
  const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  return concatBytes(
    F(utf8ToBytes('confide chat chunk v1')),
    F(utf8ToBytes(c.roomId)),
    F(utf8ToBytes(c.from)),
    F(new Uint8Array([c.kid])),
    F(utf8ToBytes(c.id)),
    F(u32(c.index)),
    F(u32(c.total)),
  );
}

describe('deriveChatKey', () => {
  it('is HKDF-SHA256(base, salt "confide chat v1", info "confide chat key"), 32 bytes, deterministic', async () => {
    const k = deriveChatKey(base);
    expect(k.length).toBe(32);
    expect(bytesToHex(deriveChatKey(base))).toBe(bytesToHex(k));
    expect(bytesToHex(k)).toBe(bytesToHex(hkdf(sha256, base, utf8ToBytes('confide chat v1'), utf8ToBytes('confide chat key'), 32)));
    // And against an independent HKDF (WebCrypto).
    const ikm = await crypto.subtle.importKey('raw', base, 'HKDF', false, ['deriveBits']);
    const bits = await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: utf8ToBytes('confide chat v1'), info: utf8ToBytes('confide chat key') },
      ikm,
      256,
    );
    expect(bytesToHex(new Uint8Array(bits))).toBe(bytesToHex(k));
  });

  it('is separate from the base key, the SFrame media key and salt, and the next ratchet step', () => {
    const k = bytesToHex(deriveChatKey(base));
    const media = deriveKeyAndSalt(SUITE, base, 0x21n);
    expect(k).not.toBe(bytesToHex(base));
    expect(k).not.toContain(bytesToHex(media.key));
    expect(k).not.toContain(bytesToHex(media.salt));
    expect(k).not.toBe(bytesToHex(ratchetBaseKey(base)));
    expect(k).not.toBe(bytesToHex(deriveChatKey(ratchetBaseKey(base))));
  });

  it('refuses a base key that is not 32 bytes', () => {
    expect(() => deriveChatKey(new Uint8Array(16))).toThrow();
  });
});

describe('sealChatChunk / openChatChunk', () => {
  const key = deriveChatKey(base);

  it('round-trips; box = 24-byte nonce ‖ ciphertext ‖ 16-byte tag with a fresh nonce each time', () => {
    const box = sealChatChunk(key, ctx, plain);
    expect(box.length).toBe(plain.length + CHAT_BOX_OVERHEAD);
    expect(bytesToHex(openChatChunk(key, ctx, box))).toBe(bytesToHex(plain));
    const again = sealChatChunk(key, ctx, plain);
    expect(bytesToHex(again.subarray(0, 24))).not.toBe(bytesToHex(box.subarray(0, 24)));
    expect(bytesToHex(openChatChunk(key, ctx, again))).toBe(bytesToHex(plain));
    // Empty plaintext and a whole 64 KiB chunk work too.
    expect(openChatChunk(key, ctx, sealChatChunk(key, ctx, new Uint8Array(0))).length).toBe(0);
    const big = randomBytes(64 * 1024);
    expect(bytesToHex(openChatChunk(key, ctx, sealChatChunk(key, ctx, big)))).toBe(bytesToHex(big));
  });

  it('matches XChaCha20-Poly1305 with the documented AAD (independent construction)', () => {
    const box = sealChatChunk(key, ctx, plain);
    const opened = xchacha20poly1305(key, box.subarray(0, 24), specAad(ctx)).decrypt(box.subarray(24));
    expect(bytesToHex(opened)).toBe(bytesToHex(plain));
  });

  it('the ciphertext does not contain the plaintext', () => {
    const box = sealChatChunk(key, ctx, plain);
    expect(Buffer.from(box).includes(Buffer.from(plain.subarray(0, 12)))).toBe(false);
  });

  it.each([
    ['roomId', { roomId: 'room-2' }],
    ['from', { from: 'peer-b' }],
    ['kid', { kid: 0x22 }],
    ['id', { id: 'cd'.repeat(16) }],
    ['index', { index: 3 }],
    ['total', { total: 4 }],
  ] as const)('throws when %s differs from what was sealed', (_field, change) => {
    const box = sealChatChunk(key, ctx, plain);
    expect(() => openChatChunk(key, { ...ctx, ...change }, box)).toThrow();
  });

  it('length prefixes keep shifted fields apart ("ab"+"c" vs "a"+"bc")', () => {
    const a = { ...ctx, roomId: 'ab', from: 'c' };
    const b = { ...ctx, roomId: 'a', from: 'bc' };
    expect(() => openChatChunk(key, b, sealChatChunk(key, a, plain))).toThrow();
  });

  it('throws on any flipped bit in nonce, ciphertext or tag, and on truncation', () => {
    const box = sealChatChunk(key, ctx, plain);
    for (const i of [0, 23, 24, 24 + 5, box.length - 16, box.length - 1]) {
      expect(() => openChatChunk(key, ctx, flip(box, i)), `byte ${i}`).toThrow();
    }
    expect(() => openChatChunk(key, ctx, box.subarray(0, box.length - 1))).toThrow();
    expect(() => openChatChunk(key, ctx, box.subarray(0, 39))).toThrow();
    expect(() => openChatChunk(key, ctx, new Uint8Array(0))).toThrow();
  });

  it('throws under another key: another chat key, the base key itself, or a media key', () => {
    const box = sealChatChunk(key, ctx, plain);
    expect(() => openChatChunk(deriveChatKey(randomBytes(32)), ctx, box)).toThrow();
    expect(() => openChatChunk(base, ctx, box)).toThrow(); // someone "forgot" to derive
    expect(() => openChatChunk(ratchetBaseKey(base), ctx, box)).toThrow();
    const media = deriveKeyAndSalt(SUITE, base, BigInt(ctx.kid)).key; // 16-byte AES key
    expect(() => openChatChunk(media, ctx, box)).toThrow();
    expect(() => openChatChunk(concatBytes(media, media), ctx, box)).toThrow();
  });

  it('a media SFrame ciphertext under the same base key does not open as a chat chunk', () => {
    const frame = encrypt(SUITE, base, BigInt(ctx.kid), 0n, new Uint8Array(0), plain);
    const padded = concatBytes(new Uint8Array(24), frame);
    expect(() => openChatChunk(key, ctx, frame)).toThrow();
    expect(() => openChatChunk(key, ctx, padded)).toThrow();
  });

  it('refuses out-of-range contexts and keys', () => {
    expect(() => sealChatChunk(key, { ...ctx, kid: 256 }, plain)).toThrow();
    expect(() => sealChatChunk(key, { ...ctx, kid: -1 }, plain)).toThrow();
    expect(() => sealChatChunk(key, { ...ctx, index: 5 }, plain)).toThrow();
    expect(() => sealChatChunk(key, { ...ctx, index: 1.5 }, plain)).toThrow();
    expect(() => sealChatChunk(key, { ...ctx, roomId: 'x'.repeat(70_000) }, plain)).toThrow();
    expect(() => sealChatChunk(new Uint8Array(16), ctx, plain)).toThrow();
  });
});
