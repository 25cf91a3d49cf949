import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  AES_128_GCM_SHA256_128,
  AES_256_GCM_SHA512_128,
  decodeHeader,
  decrypt,
  decryptWithKey,
  deriveKeyAndSalt,
  encodeHeader,
  encrypt,
  encryptWithKey,
  makeAad,
  makeNonce,
  openFrame,
  sealFrame,
  sframeKeyLabel,
  sframeSaltLabel,
} from '../../shared/crypto/sframe.ts';
import { nobleAesGcm, webCryptoAesGcm } from '../../shared/crypto/aead.ts';
import type { AesGcmBackend, AesGcmKey } from '../../shared/crypto/aead.ts';
import { errorCode, rejection } from '../support/sframe-errors.ts';

// --- RFC 9605 test vectors -------------------------------------------------

type HeaderVector = { kid: bigint; ctr: bigint; encoded: string };
type SFrameVector = {
  cipher_suite: number;
  kid: bigint;
  ctr: bigint;
  base_key: string;
  sframe_key_label: string;
  sframe_salt_label: string;
  sframe_secret: string;
  sframe_key: string;
  sframe_salt: string;
  metadata: string;
  nonce: string;
  aad: string;
  pt: string;
  ct: string;
};

// KID/CTR go up to 2^64-1, beyond JSON.parse's exact range: quote them first.
const raw = readFileSync(new URL('../fixtures/sframe-rfc9605.json', import.meta.url), 'utf8');
const fixtures = JSON.parse(raw.replace(/"(kid|ctr)"\s*:\s*(\d+)/g, '"$1":"$2"')) as {
  header: { kid: string; ctr: string; encoded: string }[];
  sframe: (Omit<SFrameVector, 'kid' | 'ctr'> & { kid: string; ctr: string })[];
};
const headerVectors: HeaderVector[] = fixtures.header.map((v) => ({ ...v, kid: BigInt(v.kid), ctr: BigInt(v.ctr) }));
const sframeVectors: SFrameVector[] = fixtures.sframe.map((v) => ({ ...v, kid: BigInt(v.kid), ctr: BigInt(v.ctr) }));
const gcmVectors = sframeVectors.filter(
  (v) => v.cipher_suite === AES_128_GCM_SHA256_128 || v.cipher_suite === AES_256_GCM_SHA512_128
);

const h = hexToBytes;
const hex = bytesToHex;
const U64_MAX = 2n ** 64n - 1n;



function flip(bytes: Uint8Array, i: number): Uint8Array {
  const out = bytes.slice();
  out[i] = (out[i] ?? 0) ^ 0x01;
  return out;
}

describe('fixture sanity', () => {
  it('has header vectors and the two GCM sframe vectors', () => {
    expect(headerVectors.length).toBeGreaterThan(200);
    expect(gcmVectors.map((v) => v.cipher_suite).sort()).toEqual([4, 5]);
    // The 2^64-1 vectors survived parsing exactly (precision check).
    expect(headerVectors.some((v) => v.kid === U64_MAX && v.ctr === U64_MAX)).toBe(true);
  });
});

describe('header (RFC 9605 §4.3)', () => {
  it('encodes every header vector', () => {
    for (const v of headerVectors) {
      expect(hex(encodeHeader(v.kid, v.ctr)), `kid=${v.kid} ctr=${v.ctr}`).toBe(v.encoded);
    }
  });

  it('decodes every header vector, also when followed by payload bytes', () => {
    for (const v of headerVectors) {
      const enc = h(v.encoded);
      const want = { kid: v.kid, ctr: v.ctr, length: enc.length };
      expect(decodeHeader(enc), v.encoded).toEqual(want);
      const withBody = new Uint8Array([...enc, 0x00, 0xff, 0x12]);
      expect(decodeHeader(withBody), v.encoded).toEqual(want);
    }
  });

  it('rejects KID/CTR outside [0, 2^64-1]', () => {
    for (const bad of [-1n, 2n ** 64n, 2n ** 70n]) {
      expect(errorCode(() => encodeHeader(bad, 0n))).toBe('invalid-argument');
      expect(errorCode(() => encodeHeader(0n, bad))).toBe('invalid-argument');
    }
    expect(hex(encodeHeader(U64_MAX, U64_MAX))).toBe('ff' + 'ff'.repeat(16));
  });

  it('rejects empty input as malformed', () => {
    expect(errorCode(() => decodeHeader(new Uint8Array(0)))).toBe('malformed');
  });

  it('rejects every truncated header vector as malformed', () => {
    let checked = 0;
    for (const v of headerVectors) {
      const enc = h(v.encoded);
      for (let n = 1; n < enc.length; n++) {
        expect(errorCode(() => decodeHeader(enc.subarray(0, n))), `${v.encoded}[:${n}]`).toBe('malformed');
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  // Policy: strict; one wire form per (KID, CTR). See sframe.ts module doc.
  it('rejects non-minimal KID/CTR encodings', () => {
    expect(errorCode(() => decodeHeader(h('8005')))).toBe('malformed'); // KID 5 extended
    expect(errorCode(() => decodeHeader(h('0805')))).toBe('malformed'); // CTR 5 extended
    expect(errorCode(() => decodeHeader(h('900012')))).toBe('malformed'); // KID 0x12 with leading zero
    expect(errorCode(() => decodeHeader(h('09000012')))).toBe('malformed'); // CTR with leading zero
    // ...while the minimal forms of the same values decode fine.
    expect(decodeHeader(h('8012'))).toEqual({ kid: 0x12n, ctr: 0n, length: 2 });
    expect(decodeHeader(h('0812'))).toEqual({ kid: 0n, ctr: 0x12n, length: 2 });
    expect(decodeHeader(h('50'))).toEqual({ kid: 5n, ctr: 0n, length: 1 });
  });
});

describe.each(gcmVectors)('RFC 9605 vector, cipher suite $cipher_suite', (v) => {
  const suite = v.cipher_suite;
  const baseKey = h(v.base_key);
  const metadata = h(v.metadata);

  it('builds the key and salt labels', () => {
    expect(hex(sframeKeyLabel(suite, v.kid))).toBe(v.sframe_key_label);
    expect(hex(sframeSaltLabel(suite, v.kid))).toBe(v.sframe_salt_label);
  });

  it('derives sframe_key and sframe_salt', () => {
    const k = deriveKeyAndSalt(suite, baseKey, v.kid);
    expect(hex(k.key)).toBe(v.sframe_key);
    expect(hex(k.salt)).toBe(v.sframe_salt);
  });

  it('computes the nonce and AAD', () => {
    expect(hex(makeNonce(h(v.sframe_salt), v.ctr))).toBe(v.nonce);
    expect(hex(makeAad(encodeHeader(v.kid, v.ctr), metadata))).toBe(v.aad);
  });

  it('encrypts to ct (one-shot and with a derived key)', () => {
    expect(hex(encrypt(suite, baseKey, v.kid, v.ctr, metadata, h(v.pt)))).toBe(v.ct);
    const k = deriveKeyAndSalt(suite, baseKey, v.kid);
    expect(hex(encryptWithKey(suite, k, v.kid, v.ctr, metadata, h(v.pt)))).toBe(v.ct);
  });

  it('decrypts ct back to pt', () => {
    const out = decrypt(suite, baseKey, metadata, h(v.ct));
    expect(out.kid).toBe(v.kid);
    expect(out.ctr).toBe(v.ctr);
    expect(hex(out.plaintext)).toBe(v.pt);
    const k = deriveKeyAndSalt(suite, baseKey, v.kid);
    expect(hex(decryptWithKey(suite, k, metadata, h(v.ct)).plaintext)).toBe(v.pt);
  });

  it('rejects a flipped bit at every byte of header, body and tag', () => {
    const ct = h(v.ct);
    const hdrLen = decodeHeader(ct).length;
    for (let i = 0; i < ct.length; i++) {
      const code = errorCode(() => decrypt(suite, baseKey, metadata, flip(ct, i)));
      // Body/tag bytes: always an auth failure. Header bytes: either the header
      // no longer parses, or it names another KID/CTR and auth fails.
      if (i >= hdrLen) expect(code, `byte ${i}`).toBe('auth');
      else expect(['auth', 'malformed'], `byte ${i}`).toContain(code);
    }
    // Targeted cases: KID low byte and CTR low byte of the header (0x0123 → 0x0122,
    // 0x4567 → 0x4566: still minimal, so it parses), first body byte, last tag byte.
    expect(hdrLen).toBe(5);
    expect(errorCode(() => decrypt(suite, baseKey, metadata, flip(ct, 2)))).toBe('auth');
    // Flipping the KID's high byte 0x01 → 0x00 gives a non-minimal header: malformed.
    expect(errorCode(() => decrypt(suite, baseKey, metadata, flip(ct, 1)))).toBe('malformed');
    expect(errorCode(() => decrypt(suite, baseKey, metadata, flip(ct, hdrLen - 1)))).toBe('auth');
    expect(errorCode(() => decrypt(suite, baseKey, metadata, flip(ct, hdrLen)))).toBe('auth');
    expect(errorCode(() => decrypt(suite, baseKey, metadata, flip(ct, ct.length - 1)))).toBe('auth');
  });

  it('rejects tampered metadata (the AAD prefix)', () => {
    const ct = h(v.ct);
    for (let i = 0; i < metadata.length; i++) {
      expect(errorCode(() => decrypt(suite, baseKey, flip(metadata, i), ct)), `metadata byte ${i}`).toBe('auth');
    }
    expect(errorCode(() => decrypt(suite, baseKey, metadata.subarray(1), ct))).toBe('auth');
    expect(errorCode(() => decrypt(suite, baseKey, new Uint8Array(0), ct))).toBe('auth');
  });

  it('rejects a wrong base key and the other suite', () => {
    const ct = h(v.ct);
    expect(errorCode(() => decrypt(suite, flip(baseKey, 0), metadata, ct))).toBe('auth');
    const other = suite === AES_128_GCM_SHA256_128 ? AES_256_GCM_SHA512_128 : AES_128_GCM_SHA256_128;
    expect(errorCode(() => decrypt(other, baseKey, metadata, ct))).toBe('auth');
  });

  it('classifies truncated frames: malformed below header+tag, auth above', () => {
    const ct = h(v.ct);
    const hdrLen = decodeHeader(ct).length;
    expect(errorCode(() => decrypt(suite, baseKey, metadata, new Uint8Array(0)))).toBe('malformed');
    for (let n = 1; n < ct.length; n++) {
      const code = errorCode(() => decrypt(suite, baseKey, metadata, ct.subarray(0, n)));
      expect(code, `length ${n}`).toBe(n < hdrLen + 16 ? 'malformed' : 'auth');
    }
  });
});

describe('round trips and argument checks', () => {
  const key16 = h('000102030405060708090a0b0c0d0e0f');

  it.each([AES_128_GCM_SHA256_128, AES_256_GCM_SHA512_128])('suite %i: KID/CTR across all header sizes', (suite) => {
    const meta = h('cafe');
    for (const kid of [0n, 7n, 8n, 255n, 256n, 2n ** 20n, 2n ** 63n, U64_MAX]) {
      for (const ctr of [0n, 7n, 8n, 108_000n, 2n ** 40n, U64_MAX]) {
        for (const pt of [new Uint8Array(0), h('00'), new Uint8Array(1000).fill(7)]) {
          const f = encrypt(suite, key16, kid, ctr, meta, pt);
          expect(f.length).toBe(encodeHeader(kid, ctr).length + pt.length + 16);
          const out = decrypt(suite, key16, meta, f);
          expect(out.kid).toBe(kid);
          expect(out.ctr).toBe(ctr);
          expect(hex(out.plaintext)).toBe(hex(pt));
        }
      }
    }
  });

  it('binds the key to the KID: same base key, other KID → auth failure', () => {
    const suite = AES_128_GCM_SHA256_128;
    const f = encrypt(suite, key16, 9n, 1n, new Uint8Array(0), h('0102'));
    const k10 = deriveKeyAndSalt(suite, key16, 10n);
    expect(errorCode(() => decryptWithKey(suite, k10, new Uint8Array(0), f))).toBe('auth');
  });

  it('throws on unsupported suites (including RFC suites 1-3, which we do not implement)', () => {
    for (const suite of [0, 1, 2, 3, 6, 0x0104]) {
      expect(errorCode(() => deriveKeyAndSalt(suite, key16, 1n))).toBe('unsupported-suite');
      expect(errorCode(() => encrypt(suite, key16, 1n, 0n, new Uint8Array(0), h('00')))).toBe('unsupported-suite');
      expect(errorCode(() => decrypt(suite, key16, new Uint8Array(0), h('10' + '00'.repeat(17))))).toBe(
        'unsupported-suite'
      );
    }
  });

  it('rejects bad KID/CTR, empty base keys and wrong-size derived keys', () => {
    const s = AES_128_GCM_SHA256_128;
    expect(errorCode(() => encrypt(s, key16, -1n, 0n, new Uint8Array(0), h('00')))).toBe('invalid-argument');
    expect(errorCode(() => encrypt(s, key16, 0n, 2n ** 64n, new Uint8Array(0), h('00')))).toBe('invalid-argument');
    expect(errorCode(() => deriveKeyAndSalt(s, new Uint8Array(0), 0n))).toBe('invalid-argument');
    const k256 = deriveKeyAndSalt(AES_256_GCM_SHA512_128, key16, 0n);
    expect(errorCode(() => encryptWithKey(s, k256, 0n, 0n, new Uint8Array(0), h('00')))).toBe('invalid-argument');
  });
});

// --- async path: sealFrame/openFrame with each AES-GCM backend ------------

const BACKENDS: AesGcmBackend[] = [webCryptoAesGcm, nobleAesGcm];

/** deriveKeyAndSalt + importKey: what SFrameSender/SFrameReceiver cache per KID. */
async function imported(
  backend: AesGcmBackend,
  suite: number,
  baseKey: Uint8Array,
  kid: bigint
): Promise<{ aesKey: AesGcmKey; salt: Uint8Array }> {
  const k = deriveKeyAndSalt(suite, baseKey, kid);
  const aesKey = await backend.importKey(k.key);
  k.key.fill(0); // as the stateful code does: the backend must not depend on the caller's bytes
  return { aesKey, salt: k.salt };
}

describe.each(BACKENDS.flatMap((backend) => gcmVectors.map((v) => ({ backend, name: backend.name, v }))))(
  'RFC 9605 vector, cipher suite $v.cipher_suite, sealFrame/openFrame with $name',
  ({ backend, v }) => {
    const suite = v.cipher_suite;
    const baseKey = h(v.base_key);
    const metadata = h(v.metadata);
    const open = async (s: number, bk: Uint8Array, meta: Uint8Array, frame: Uint8Array) => {
      const { aesKey, salt } = await imported(backend, s, bk, decodeHeader(frame).kid);
      return openFrame(s, aesKey, salt, meta, frame);
    };

    it('sealFrame produces exactly ct, openFrame opens it back to pt', async () => {
      const { aesKey, salt } = await imported(backend, suite, baseKey, v.kid);
      expect(hex(salt)).toBe(v.sframe_salt);
      expect(hex(await sealFrame(suite, aesKey, salt, v.kid, v.ctr, metadata, h(v.pt)))).toBe(v.ct);
      const out = await openFrame(suite, aesKey, salt, metadata, h(v.ct));
      expect(out.kid).toBe(v.kid);
      expect(out.ctr).toBe(v.ctr);
      expect(hex(out.plaintext)).toBe(v.pt);
      // With a header the caller already parsed, too.
      const ct = h(v.ct);
      expect(hex((await openFrame(suite, aesKey, salt, metadata, ct, decodeHeader(ct))).plaintext)).toBe(v.pt);
    });

    it('rejects a flipped bit at every byte of header, body and tag', async () => {
      const ct = h(v.ct);
      const hdrLen = decodeHeader(ct).length;
      for (let i = 0; i < ct.length; i++) {
        // Like decrypt(): the key is derived for the KID in the (possibly flipped) header.
        const code = await rejection(open(suite, baseKey, metadata, flip(ct, i)));
        if (i >= hdrLen) expect(code, `byte ${i}`).toBe('auth');
        else expect(['auth', 'malformed'], `byte ${i}`).toContain(code);
      }
      expect(hdrLen).toBe(5);
      expect(await rejection(open(suite, baseKey, metadata, flip(ct, 2)))).toBe('auth');
      const { aesKey, salt } = await imported(backend, suite, baseKey, v.kid);
      expect(await rejection(openFrame(suite, aesKey, salt, metadata, flip(ct, 1)))).toBe('malformed');
      expect(await rejection(openFrame(suite, aesKey, salt, metadata, flip(ct, hdrLen - 1)))).toBe('auth');
      expect(await rejection(openFrame(suite, aesKey, salt, metadata, flip(ct, hdrLen)))).toBe('auth');
      expect(await rejection(openFrame(suite, aesKey, salt, metadata, flip(ct, ct.length - 1)))).toBe('auth');
      // The untouched frame still opens with the same key object.
      expect(hex((await openFrame(suite, aesKey, salt, metadata, ct)).plaintext)).toBe(v.pt);
    });

    it('rejects tampered metadata (the AAD prefix)', async () => {
      const ct = h(v.ct);
      const { aesKey, salt } = await imported(backend, suite, baseKey, v.kid);
      for (let i = 0; i < metadata.length; i++) {
        expect(await rejection(openFrame(suite, aesKey, salt, flip(metadata, i), ct)), `metadata byte ${i}`).toBe('auth');
      }
      expect(await rejection(openFrame(suite, aesKey, salt, metadata.subarray(1), ct))).toBe('auth');
      expect(await rejection(openFrame(suite, aesKey, salt, new Uint8Array(0), ct))).toBe('auth');
    });

    it('rejects a wrong base key, the other suite and a wrong salt', async () => {
      const ct = h(v.ct);
      expect(await rejection(open(suite, flip(baseKey, 0), metadata, ct))).toBe('auth');
      const other = suite === AES_128_GCM_SHA256_128 ? AES_256_GCM_SHA512_128 : AES_128_GCM_SHA256_128;
      expect(await rejection(open(other, baseKey, metadata, ct))).toBe('auth');
      const { aesKey, salt } = await imported(backend, suite, baseKey, v.kid);
      expect(await rejection(openFrame(suite, aesKey, flip(salt, 11), metadata, ct))).toBe('auth');
    });

    it('classifies truncated frames: malformed below header+tag, auth above', async () => {
      const ct = h(v.ct);
      const hdrLen = decodeHeader(ct).length;
      const { aesKey, salt } = await imported(backend, suite, baseKey, v.kid);
      expect(await rejection(openFrame(suite, aesKey, salt, metadata, new Uint8Array(0)))).toBe('malformed');
      for (let n = 1; n < ct.length; n++) {
        const code = await rejection(openFrame(suite, aesKey, salt, metadata, ct.subarray(0, n)));
        expect(code, `length ${n}`).toBe(n < hdrLen + 16 ? 'malformed' : 'auth');
      }
    });
  }
);

describe.each(BACKENDS)('sealFrame/openFrame round trips with $name', (backend) => {
  const key16 = h('000102030405060708090a0b0c0d0e0f');

  it.each([AES_128_GCM_SHA256_128, AES_256_GCM_SHA512_128])(
    'suite %i: same bytes as encryptWithKey across header sizes, and back',
    async (suite) => {
      const meta = h('cafe');
      for (const kid of [0n, 8n, 256n, U64_MAX]) {
        const k = deriveKeyAndSalt(suite, key16, kid);
        const { aesKey, salt } = await imported(backend, suite, key16, kid);
        for (const ctr of [0n, 7n, 8n, 108_000n, U64_MAX]) {
          for (const pt of [new Uint8Array(0), h('00'), new Uint8Array(1000).fill(7)]) {
            const f = await sealFrame(suite, aesKey, salt, kid, ctr, meta, pt);
            expect(hex(f)).toBe(hex(encryptWithKey(suite, k, kid, ctr, meta, pt)));
            const out = await openFrame(suite, aesKey, salt, meta, f);
            expect(out.kid).toBe(kid);
            expect(out.ctr).toBe(ctr);
            expect(hex(out.plaintext)).toBe(hex(pt));
          }
        }
      }
    }
  );

  it('binds the key to the KID: same base key, other KID → auth failure', async () => {
    const suite = AES_128_GCM_SHA256_128;
    const f = encrypt(suite, key16, 9n, 1n, new Uint8Array(0), h('0102'));
    const k10 = await imported(backend, suite, key16, 10n);
    expect(await rejection(openFrame(suite, k10.aesKey, k10.salt, new Uint8Array(0), f))).toBe('auth');
  });

  it('rejects unsupported suites, bad KID/CTR and wrong-size salts', async () => {
    const s = AES_128_GCM_SHA256_128;
    const { aesKey, salt } = await imported(backend, s, key16, 0n);
    const none = new Uint8Array(0);
    expect(await rejection(sealFrame(1, aesKey, salt, 0n, 0n, none, h('00')))).toBe('unsupported-suite');
    expect(await rejection(openFrame(1, aesKey, salt, none, h('10' + '00'.repeat(17))))).toBe('unsupported-suite');
    expect(await rejection(sealFrame(s, aesKey, salt, -1n, 0n, none, h('00')))).toBe('invalid-argument');
    expect(await rejection(sealFrame(s, aesKey, salt, 0n, 2n ** 64n, none, h('00')))).toBe('invalid-argument');
    expect(await rejection(sealFrame(s, aesKey, salt.subarray(1), 0n, 0n, none, h('00')))).toBe('invalid-argument');
    expect(await rejection(openFrame(s, aesKey, new Uint8Array(13), none, h('10' + '00'.repeat(17))))).toBe(
      'invalid-argument'
    );
  });
});
