/**
 * Tiny byte helpers shared by the SFrame code. Pure functions, no globals,
 * so they run the same in a browser Worker, in Node tests and in benchmarks.
 * @module
 */

/** Largest value of an unsigned 64-bit integer: KID and CTR must fit in it. */
export const U64_MAX: bigint = 0xffff_ffff_ffff_ffffn;

/** True when `x` is a bigint in [0, 2^64-1]. */
export function isU64(x: unknown): x is bigint {
  return typeof x === 'bigint' && x >= 0n && x <= U64_MAX;
}

/** Concatenates byte arrays into a fresh one (inputs are never aliased). */
export function concatBytes(...arrays: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const a of arrays) len += a.length;
  const out = new Uint8Array(len);
  let pos = 0;
  for (const a of arrays) {
    out.set(a, pos);
    pos += a.length;
  }
  return out;
}

/** Writes `x` big-endian into `out[pos..pos+len)`. Caller guarantees it fits. */
export function writeUintBE(out: Uint8Array, pos: number, len: number, x: bigint): void {
  for (let i = len - 1; i >= 0; i--) {
    out[pos + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/** Reads `len` bytes big-endian from `bytes[pos..]`. Caller checks bounds. */
export function readUintBE(bytes: Uint8Array, pos: number, len: number): bigint {
  let x = 0n;
  for (let i = 0; i < len; i++) x = (x << 8n) | BigInt(bytes[pos + i] ?? 0);
  return x;
}

/** Minimal number of bytes for a non-negative bigint (0 for 0). */
export function byteLength(x: bigint): number {
  let n = 0;
  for (; x > 0n; x >>= 8n) n++;
  return n;
}

/** Fixed-size big-endian encoding, e.g. KID as 8 bytes, suite as 2 bytes. */
export function uintBE(x: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  writeUintBE(out, 0, len, x);
  return out;
}

/** ASCII string → bytes; only used at module load for fixed protocol labels. */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) throw new Error('ascii: non-ASCII label');
    out[i] = c;
  }
  return out;
}

/**
 * F(x1) ‖ F(x2) ‖ …, F(x) = len(x) as 2 bytes big-endian ‖ x: no two different
 * tuples encode alike (AADs, HKDF infos). Throws on a field over 65535 bytes.
 */
export function lengthPrefixed(...fields: Uint8Array[]): Uint8Array {
  for (const f of fields) if (f.length > 0xffff) throw new Error('field too long');
  return concatBytes(...fields.flatMap((f) => [new Uint8Array([f.length >> 8, f.length & 0xff]), f]));
}
