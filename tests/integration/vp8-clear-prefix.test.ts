// Proves the VP8 clear prefix (one byte) is what mediasoup needs: with it the
// SFU sees exactly the sender's keyframes and starts a new consumer on one;
// with no clear byte (SFrame header first) both break. Real mediasoup worker,
// crafted RTP over UDP into a PlainTransport.
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { WorkerPool } from '../../server/sfu/worker-pool.ts';
import { mediaCodecs } from '../../server/sfu/media-codecs.ts';
import type { types } from '../../server/sfu/mediasoup.ts';
import { SFrameSender } from '../../shared/crypto/sframe-sender.ts';
import { protectFrame } from '../../shared/crypto/media-frame.ts';
import { SUITE } from '../../shared/crypto/media-suite.ts';
import { parseRtp, parseVp8Descriptor, writeRtp } from '../support/rtp.ts';

const PT = 101;
const SSRC = 0x1234abcd;
type Layout = (frame: Uint8Array) => Promise<Uint8Array>;

let pool: WorkerPool;
let udp: dgram.Socket;

beforeAll(async () => {
  pool = await WorkerPool.create({ size: 1, rtcMinPort: 40000, rtcMaxPort: 49999, logger: pino({ level: 'silent' }) });
  udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
});
afterAll(() => {
  udp?.close();
  pool?.close();
});

/** A synthetic VP8 frame: P bit clear and the start code on keyframes (RFC 6386 §9.1). */
function vp8Frame(key: boolean, n: number): Uint8Array {
  const body = new Uint8Array(randomBytes(300 + n));
  body[0] = key ? 0x10 : 0x11; // bit 0 = P (inverse key frame), show_frame set
  if (key) body.set([0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01], 3); // start code, 640x480
  return body;
}

async function runStream(layout: Layout) {
  const router = await pool.nextWorker().createRouter({ mediaCodecs });
  const plain = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
  const producer = await plain.produce({
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: PT, clockRate: 90000 }],
      encodings: [{ ssrc: SSRC }],
    },
  });
  let keyframesSeen = 0;
  await producer.enableTraceEvent(['keyframe']);
  producer.on('trace', (t) => t.type === 'keyframe' && keyframesSeen++);

  let seq = 1000;
  const send = async (key: boolean, i: number) => {
    const payload = await layout(vp8Frame(key, i));
    // As Chromium sends it (mediasoup needs X=1): X=1 S=1 PID=0, I=1, 15-bit PictureID.
    const descriptor = new Uint8Array([0x90, 0x80, 0x80 | ((i >> 8) & 0x7f), i & 0xff]);
    const pkt = writeRtp(
      { payloadType: PT, marker: true, seq: seq++, timestamp: 3000 * i, ssrc: SSRC },
      new Uint8Array([...descriptor, ...payload]),
    );
    await new Promise<void>((r, j) => udp.send(pkt, plain.tuple.localPort, '127.0.0.1', (e) => (e ? j(e) : r())));
    await new Promise((r) => setTimeout(r, 5));
  };

  // 40 frames with a keyframe every 10th, then a late consumer, then more.
  const pattern = (i: number) => i % 10 === 0;
  let sentKeyframes = 0;
  for (let i = 0; i < 40; i++) {
    if (pattern(i)) sentKeyframes++;
    await send(pattern(i), i);
  }
  const direct = await router.createDirectTransport();
  const consumer = await direct.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
  const firstForwarded: boolean[] = []; // per forwarded frame: P bit of its first byte says keyframe
  consumer.on('rtp', (buf: Buffer) => {
    const data = parseVp8Descriptor(parseRtp(new Uint8Array(buf)).payload).data;
    firstForwarded.push(data[0] !== undefined && (data[0] & 0x01) === 0);
  });
  const lateFrames = [false, false, false, true, false, false];
  for (const [j, key] of lateFrames.entries()) {
    if (key) sentKeyframes++;
    await send(key, 40 + j);
  }
  await new Promise((r) => setTimeout(r, 200));
  const pstats = await producer.getStats();
  router.close();
  return { keyframesSeen, sentKeyframes, forwarded: firstForwarded.length, firstIsKey: firstForwarded[0] };
}

async function sender(): Promise<SFrameSender> {
  const s = new SFrameSender(SUITE);
  await s.setKey(9n, new Uint8Array(randomBytes(32)));
  return s;
}

describe('VP8 clear prefix', () => {
  it('with one clear byte, mediasoup sees exactly the keyframes and starts a late consumer on one', async () => {
    const s = await sender();
    const r = await runStream((f) => protectFrame(s, 'video', f));
    expect(r.keyframesSeen).toBe(r.sentKeyframes);
    // The late consumer waits for the keyframe (4th late frame): 3 of 6 forwarded.
    expect(r.forwarded).toBe(3);
    expect(r.firstIsKey).toBe(true);
  });

  it('with no clear byte (SFrame header first), keyframe detection and consumer start break', async () => {
    const s = await sender();
    const r = await runStream((f) => s.encrypt(new Uint8Array(0), f));
    // The SFU does get and forward the stream…
    expect(r.keyframesSeen).toBeGreaterThan(0);
    expect(r.forwarded).toBeGreaterThan(0);
    // …but reads SFrame header bits as keyframe flags.
    expect(r.keyframesSeen).not.toBe(r.sentKeyframes);
    expect(r.forwarded).not.toBe(3);
  });
});
