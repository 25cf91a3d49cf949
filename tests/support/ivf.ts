// IVF container (what ffmpeg reads for raw VP8 frames).
export function writeIvf(frames: Uint8Array[], width: number, height: number, fps = 30): Uint8Array {
  const total = 32 + frames.reduce((n, f) => n + 12 + f.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x44, 0x4b, 0x49, 0x46], 0); // DKIF
  v.setUint16(4, 0, true);
  v.setUint16(6, 32, true);
  out.set([0x56, 0x50, 0x38, 0x30], 8); // VP80
  v.setUint16(12, width, true);
  v.setUint16(14, height, true);
  v.setUint32(16, fps, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, frames.length, true);
  let o = 32;
  frames.forEach((f, i) => {
    v.setUint32(o, f.length, true);
    v.setBigUint64(o + 4, BigInt(i), true);
    out.set(f, o + 12);
    o += 12 + f.length;
  });
  return out;
}
