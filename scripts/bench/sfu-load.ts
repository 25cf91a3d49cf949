/**
 * N synthetic 1:1 consultations on a real mediasoup WorkerPool, all on
 * 127.0.0.1: each participant is one UDP socket bound to a PlainTransport
 * (comedia) that both produces (its Opus + VP8) and consumes (the other
 * participant's two streams), as a browser's send and receive transports
 * would. Senders replay precomputed SFrame-sealed frames (synthetic-media.ts)
 * at 30 + 50 frames/s; receivers count loss from the forwarded sequence
 * numbers, forwarding delay from the RTP timestamp (written from the send
 * clock, which mediasoup's simple consumers forward unchanged), and open
 * samples of the frames to check the SFU delivered them intact.
 * Not modelled: DTLS-SRTP (a browser's transports pay AES-CM + HMAC per
 * packet on top of this), congestion control and simulcast.
 */
import dgram from 'node:dgram';
import pino from 'pino';
import { WorkerPool } from '../../server/sfu/worker-pool.ts';
import { mediaCodecs } from '../../server/sfu/media-codecs.ts';
import type { types } from '../../server/sfu/mediasoup.ts';
import { concat, parseVp8Descriptor } from '../../tests/support/rtp.ts';
import { AUDIO_FPS, VIDEO_FPS, makeLoop, opens, type MediaLoop } from './synthetic-media.ts';

const IP = '127.0.0.1';
const AUDIO_PT = 100;
const VIDEO_PT = 101;
const CLOCK = { audio: 48_000, video: 90_000 } as const;
/** Distinct keys among participants (each loop costs ~150 KB and a few ms to seal). */
const LOOPS = 8;
/** Open one received frame in this many, per stream (≈ one a second). */
const CHECK_EVERY = { audio: AUDIO_FPS, video: VIDEO_FPS } as const;
const MAX_DELAY_SAMPLES = 200_000;

interface Sender {
  socket: dgram.Socket;
  port: number;
  loop: MediaLoop;
  ssrc: { audio: number; video: number };
  seq: { audio: number; video: number };
  frame: { audio: number; video: number };
  next: { audio: number; video: number };
  pictureId: number;
}

interface RecvStream {
  kind: 'audio' | 'video';
  loop: MediaLoop;
  lastSeq: number;
  lastIdx: number;
  firstIdx: number | undefined;
  maxIdx: number;
  received: number;
  packets: number;
  collecting: Uint8Array[] | undefined;
}

/** What one measurement window saw (counters since `startWindow()`). */
export interface WindowStats {
  seconds: number;
  /** Packets the forwarded sequence numbers say should have arrived, and those that did. */
  expected: number;
  received: number;
  /** Forwarding delay samples (ms): send call → receive callback, both in this process. */
  delays: number[];
  /** Sampled frames opened, and how many of them failed their SFrame tag. */
  checked: number;
  badTags: number;
  sentPackets: number;
  sentBytes: number;
  sendErrors: number;
}

export class SfuLoad {
  private readonly senders: Sender[] = [];
  private readonly streams = new Map<number, RecvStream>();
  private readonly routers: types.Router[] = [];
  private loops: MediaLoop[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = performance.now();
  private w = SfuLoad.emptyWindow();
  private windowStart = performance.now();
  private nextSsrc = 0x10000;

  private constructor(readonly pool: WorkerPool) {}

  /** Starts `workers` mediasoup workers and seals the replay loops. */
  static async create(workers: number, rtcPorts = { min: 42000, max: 42999 }): Promise<SfuLoad> {
    const pool = await WorkerPool.create({ size: workers, rtcMinPort: rtcPorts.min, rtcMaxPort: rtcPorts.max, logger: pino({ level: 'silent' }) });
    const load = new SfuLoad(pool);
    for (let i = 0; i < LOOPS; i++) load.loops.push(await makeLoop(BigInt(8 + i)));
    load.timer = setInterval(() => load.tick(), 4);
    return load;
  }

  get consultations(): number {
    return this.routers.length;
  }

  /** Adds one consultation: a Router on the next worker and two participants sending to each other. */
  async addConsultation(): Promise<void> {
    const router = await this.pool.nextWorker().createRouter({ mediaCodecs });
    this.routers.push(router);
    const a = await this.participant(router);
    const b = await this.participant(router);
    await this.consume(router, a, b);
    await this.consume(router, b, a);
    this.senders.push(a.sender, b.sender);
  }

  private async participant(router: types.Router) {
    const transport = await router.createPlainTransport({ listenIp: IP, rtcpMux: true, comedia: true });
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 22, sendBufferSize: 1 << 22 });
    await new Promise<void>((r) => socket.bind(0, IP, r));
    socket.on('message', (msg) => this.receive(msg));
    const i = this.senders.length;
    const now = performance.now();
    const sender: Sender = {
      socket,
      port: transport.tuple.localPort,
      loop: this.loops[i % this.loops.length]!,
      ssrc: { audio: this.nextSsrc++, video: this.nextSsrc++ },
      seq: { audio: 0, video: 0 },
      frame: { audio: 0, video: 0 },
      // Spread participants over the frame interval, as independent cameras would be.
      next: { audio: now + Math.random() * 20, video: now + Math.random() * 33 },
      pictureId: 0,
    };
    const producers = {
      audio: await transport.produce({
        kind: 'audio',
        rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: sender.ssrc.audio }] },
      }),
      video: await transport.produce({
        kind: 'video',
        rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: VIDEO_PT, clockRate: 90000 }], encodings: [{ ssrc: sender.ssrc.video }] },
      }),
    };
    return { transport, sender, producers };
  }

  /** `to` consumes both of `from`'s producers on its own transport (the socket it sends from). */
  private async consume(router: types.Router, to: Awaited<ReturnType<SfuLoad['participant']>>, from: Awaited<ReturnType<SfuLoad['participant']>>) {
    for (const kind of ['audio', 'video'] as const) {
      const c = await to.transport.consume({ producerId: from.producers[kind].id, rtpCapabilities: router.rtpCapabilities });
      const ssrc = c.rtpParameters.encodings?.[0]?.ssrc;
      if (ssrc === undefined) throw new Error('consumer without an SSRC');
      this.streams.set(ssrc, { kind, loop: from.sender.loop, lastSeq: 0, lastIdx: 0, firstIdx: undefined, maxIdx: 0, received: 0, packets: 0, collecting: undefined });
    }
  }

  /** Sends every frame that is due (called every 4 ms; catches up after a late timer). */
  private tick(): void {
    const now = performance.now();
    for (const s of this.senders) {
      while (s.next.audio <= now) {
        this.sendAudio(s, now);
        s.next.audio += 1000 / AUDIO_FPS;
      }
      while (s.next.video <= now) {
        this.sendVideo(s, now);
        s.next.video += 1000 / VIDEO_FPS;
      }
    }
  }

  private header(s: Sender, kind: 'audio' | 'video', marker: boolean, now: number, extra: number, payload: Uint8Array): Buffer {
    const buf = Buffer.allocUnsafe(12 + extra + payload.length);
    buf[0] = 0x80;
    buf[1] = (marker ? 0x80 : 0) | (kind === 'audio' ? AUDIO_PT : VIDEO_PT);
    buf.writeUInt16BE(s.seq[kind]++ & 0xffff, 2);
    buf.writeUInt32BE(Math.round(((now - this.t0) * CLOCK[kind]) / 1000) >>> 0, 4);
    buf.writeUInt32BE(s.ssrc[kind], 8);
    buf.set(payload, 12 + extra);
    return buf;
  }

  private sendAudio(s: Sender, now: number): void {
    const frame = s.loop.audio[s.frame.audio++ % s.loop.audio.length]!;
    this.send(s, this.header(s, 'audio', true, now, 0, frame));
  }

  private sendVideo(s: Sender, now: number): void {
    const parts = s.loop.video[s.frame.video++ % s.loop.video.length]!;
    const pid = s.pictureId++ & 0x7fff;
    parts.forEach((chunk, i) => {
      const buf = this.header(s, 'video', i === parts.length - 1, now, 4, chunk);
      // VP8 payload descriptor as Chromium sends it: X, S on the first packet, I with a 15-bit PictureID.
      buf[12] = i === 0 ? 0x90 : 0x80;
      buf[13] = 0x80;
      buf[14] = 0x80 | (pid >> 8);
      buf[15] = pid & 0xff;
      this.send(s, buf);
    });
  }

  private send(s: Sender, buf: Buffer): void {
    this.w.sentPackets++;
    this.w.sentBytes += buf.length;
    s.socket.send(buf, s.port, IP, (err) => {
      if (err) this.w.sendErrors++;
    });
  }

  private receive(msg: Buffer): void {
    const now = performance.now();
    if (msg.length < 12 || msg[1]! >= 192 && msg[1]! <= 223) return; // RTCP (RFC 5761)
    const st = this.streams.get(msg.readUInt32BE(8));
    if (!st) return;
    const seq = msg.readUInt16BE(2);
    const idx = st.firstIdx === undefined ? st.lastIdx : st.lastIdx + ((((seq - st.lastSeq) & 0xffff) << 16) >> 16);
    if (st.firstIdx === undefined) {
      st.firstIdx = idx;
      st.maxIdx = idx;
    }
    st.lastSeq = seq;
    st.lastIdx = idx;
    if (idx > st.maxIdx) st.maxIdx = idx;
    st.received++;
    const sentAt = this.t0 + (msg.readUInt32BE(4) * 1000) / CLOCK[st.kind];
    if (this.w.delays.length < MAX_DELAY_SAMPLES) this.w.delays.push(now - sentAt);
    this.check(st, msg);
  }

  /** Opens one frame in CHECK_EVERY per stream (reassembled from its packets for video). */
  private check(st: RecvStream, msg: Buffer): void {
    let offset = 12 + (msg[0]! & 0x0f) * 4;
    if (msg[0]! & 0x10) offset += 4 + msg.readUInt16BE(offset + 2) * 4;
    const payload = new Uint8Array(msg.buffer, msg.byteOffset + offset, msg.length - offset);
    const marker = (msg[1]! & 0x80) !== 0;
    if (st.kind === 'audio') {
      if (st.packets++ % CHECK_EVERY.audio === 0) this.open(st, payload.slice());
      return;
    }
    const d = parseVp8Descriptor(payload);
    if (d.start && d.partition === 0) st.collecting = st.packets++ % CHECK_EVERY.video === 0 ? [] : undefined;
    if (!st.collecting) return;
    st.collecting.push(d.data.slice());
    if (marker) {
      this.open(st, concat(st.collecting));
      st.collecting = undefined;
    }
  }

  private open(st: RecvStream, frame: Uint8Array): void {
    const w = this.w;
    void opens(st.loop, st.kind, frame).then((ok) => {
      w.checked++;
      if (!ok) w.badTags++;
    });
  }

  private static emptyWindow(): WindowStats {
    return { seconds: 0, expected: 0, received: 0, delays: [], checked: 0, badTags: 0, sentPackets: 0, sentBytes: 0, sendErrors: 0 };
  }

  /** Starts a new measurement window: every counter from zero, loss counted from each stream's next packet. */
  startWindow(): void {
    for (const st of this.streams.values()) {
      st.firstIdx = undefined;
      st.received = 0;
      st.collecting = undefined;
    }
    this.w = SfuLoad.emptyWindow();
    this.windowStart = performance.now();
  }

  /** The current window's counters; `expected` and `received` are summed over the streams. */
  endWindow(): WindowStats {
    const w = this.w;
    w.seconds = (performance.now() - this.windowStart) / 1000;
    for (const st of this.streams.values()) {
      if (st.firstIdx === undefined) continue;
      w.expected += st.maxIdx - st.firstIdx + 1;
      w.received += st.received;
    }
    return w;
  }

  /** Streams that have not received a packet in the current window (should be 0 once warmed up). */
  silentStreams(): number {
    return [...this.streams.values()].filter((s) => s.firstIdx === undefined).length;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const r of this.routers) r.close();
    for (const s of this.senders) s.socket.close();
    this.pool.close();
  }
}
