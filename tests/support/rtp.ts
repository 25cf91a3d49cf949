// Just enough RTP (RFC 3550) and VP8 payload descriptor (RFC 7741) parsing
// and writing to inspect what the SFU forwards and to feed it crafted packets.

export interface RtpPacket {
  /** When the packet was captured (ms since epoch), where known. */
  at?: number;
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
}

export function parseRtp(buf: Uint8Array): RtpPacket {
  if (buf.length < 12 || buf[0]! >> 6 !== 2) throw new Error('not RTP v2');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  let offset = 12 + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    const words = view.getUint16(offset + 2);
    offset += 4 + words * 4;
  }
  let end = buf.length;
  if (b0 & 0x20) end -= buf[buf.length - 1]!;
  if (offset > end) throw new Error('truncated RTP packet');
  return {
    payloadType: b1 & 0x7f,
    marker: (b1 & 0x80) !== 0,
    seq: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payload: buf.subarray(offset, end),
  };
}

export function writeRtp(p: Omit<RtpPacket, 'payload'>, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + payload.length);
  const view = new DataView(out.buffer);
  out[0] = 0x80;
  out[1] = (p.marker ? 0x80 : 0) | p.payloadType;
  view.setUint16(2, p.seq & 0xffff);
  view.setUint32(4, p.timestamp >>> 0);
  view.setUint32(8, p.ssrc >>> 0);
  out.set(payload, 12);
  return out;
}

/** Splits a VP8 RTP payload into its descriptor fields and the VP8 payload bytes. */
export function parseVp8Descriptor(payload: Uint8Array): { start: boolean; partition: number; data: Uint8Array } {
  const b0 = payload[0];
  if (b0 === undefined) throw new Error('empty VP8 payload');
  let offset = 1;
  if (b0 & 0x80) {
    const x = payload[offset++]!;
    if (x & 0x80) offset += payload[offset]! & 0x80 ? 2 : 1; // PictureID, 7 or 15 bits
    if (x & 0x40) offset += 1; // TL0PICIDX
    if (x & 0x30) offset += 1; // TID/Y/KEYIDX
  }
  return { start: (b0 & 0x10) !== 0, partition: b0 & 0x07, data: payload.subarray(offset) };
}

export interface Frame {
  data: Uint8Array;
  /** Capture time of the frame's last packet (0 if unknown). */
  at: number;
}

/** Reassembles VP8 frames (S bit to marker bit) from packets of one stream, in sequence order. */
export function reassembleVp8(packets: RtpPacket[]): Frame[] {
  const bySeq = new Map<number, RtpPacket>();
  for (const p of packets) bySeq.set(p.seq, p); // drop retransmitted duplicates
  const ordered = unwrapSequence([...bySeq.values()]);
  const frames: Frame[] = [];
  let parts: Uint8Array[] | undefined;
  let expected: number | undefined;
  for (const { packet: p, index } of ordered) {
    const d = parseVp8Descriptor(p.payload);
    if (d.start && d.partition === 0) parts = [];
    else if (expected !== index) parts = undefined; // a gap: drop the partial frame
    expected = index + 1;
    if (!parts) continue;
    parts.push(d.data);
    if (p.marker) {
      frames.push({ data: concat(parts), at: p.at ?? 0 });
      parts = undefined;
    }
  }
  return frames;
}

function unwrapSequence(packets: RtpPacket[]): { packet: RtpPacket; index: number }[] {
  // Packets arrive roughly in order: unwrap 16-bit sequence numbers by arrival.
  let cycles = 0;
  let last: number | undefined;
  const out = packets.map((packet) => {
    if (last !== undefined && packet.seq < last && last - packet.seq > 0x8000) cycles++;
    last = packet.seq;
    return { packet, index: cycles * 0x10000 + packet.seq };
  });
  return out.sort((a, b) => a.index - b.index);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
