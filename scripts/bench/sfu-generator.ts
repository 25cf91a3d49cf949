/**
 * One synthetic-participant process for the SFU capacity bench (run by
 * sfu-cluster.ts through BenchChild; argv[2] is its index, which makes its
 * SSRCs unique). It replays precomputed SFrame-sealed Opus + VP8
 * (synthetic-media.ts) for both participants of each consultation it owns,
 * at 50 + 30 frames/s each, from one connected UDP socket per participant.
 *
 * Only *sampled* consultations are received here: their receive transports
 * send to sockets this process reads, where loss is counted from the
 * forwarded sequence numbers, forwarding delay from the send clock written
 * into the RTP timestamp (mediasoup's simple consumers forward it
 * unchanged), and one frame per stream per second is opened with the
 * sender's key. Other consultations' receive transports send to a sink
 * socket nobody reads (sfu-cluster.ts): the SFU pays its full egress, this
 * process pays nothing for it, and their loss is read from mediasoup's stats.
 */
import dgram from 'node:dgram';
import { concat, parseVp8Descriptor } from '../../tests/support/rtp.ts';
import { AUDIO_FPS, VIDEO_FPS, makeLoop, opens, type MediaLoop } from './synthetic-media.ts';
import { serve } from './sfu-ipc.ts';
import { AUDIO_PT, VIDEO_PT, type AddedConsultation, type Ssrcs } from './sfu-wire.ts';

const IP = '127.0.0.1';
const CLOCK = { audio: 48_000, video: 90_000 } as const;
/** Distinct keys among this process's participants (each loop costs ~150 KB and a few ms to seal). */
const LOOPS = 4;
/** Open one received frame in this many, per stream (≈ one a second). */
const CHECK_EVERY = { audio: AUDIO_FPS, video: VIDEO_FPS } as const;
const MAX_DELAY_SAMPLES = 50_000;

interface Sender {
  socket: dgram.Socket;
  loop: MediaLoop;
  ssrc: Ssrcs;
  seq: Ssrcs;
  frame: Ssrcs;
  next: Ssrcs;
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

/** Sampled consultations' end-to-end figures over one window (`window-start` → `window-end`). */
export interface E2eWindow {
  seconds: number;
  /** Packets the forwarded sequence numbers say should have arrived, and those that did. */
  expected: number;
  received: number;
  /** Forwarding delay samples (ms): send call → receive callback, both in this process. */
  delays: number[];
  /** Sampled frames opened, and how many failed their SFrame tag. */
  checked: number;
  badTags: number;
  /** Streams of sampled consultations that received nothing in the window. */
  silentStreams: number;
  streams: number;
}

/** Cumulative send counters since the process started. */
export interface SendCounters {
  packets: number;
  bytes: number;
  errors: number;
}

export type GenReq =
  | { op: 'open'; id: number; sampled: boolean }
  | { op: 'start'; id: number; wiring: AddedConsultation }
  | { op: 'pause' }
  | { op: 'resume' }
  | { op: 'counters' }
  | { op: 'window-start' }
  | { op: 'window-end' }
  | { op: 'close' };

/** The answer to `open`: receive ports (null: not sampled, use the sink) and the SSRCs each participant will send. */
export interface Opened {
  recvPorts: [number, number] | null;
  produce: [Ssrcs, Ssrcs];
}

const index = Number(process.argv[2] ?? 0);
const t0 = performance.now();
const loops: MediaLoop[] = [];
for (let i = 0; i < LOOPS; i++) loops.push(await makeLoop(BigInt(8 + i)));
const senders: Sender[] = [];
const sockets: dgram.Socket[] = [];
const pending = new Map<number, { loops: [MediaLoop, MediaLoop]; streams: [Map<number, RecvStream>, Map<number, RecvStream>] | undefined; produce: [Ssrcs, Ssrcs] }>();
const allStreams: RecvStream[] = [];
let nextSsrc = ((index + 1) << 24) >>> 0;
let paused = false;
const sent: SendCounters = { packets: 0, bytes: 0, errors: 0 };
let win = { start: performance.now(), delays: [] as number[], checked: 0, badTags: 0, opening: new Set<Promise<void>>() };

async function bindReceiver(streams: Map<number, RecvStream>): Promise<number> {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 22 });
  sockets.push(socket);
  await new Promise<void>((r) => socket.bind(0, IP, r));
  socket.on('message', (msg) => receive(streams, msg));
  return socket.address().port;
}

async function open(id: number, sampled: boolean): Promise<Opened> {
  const pair: [MediaLoop, MediaLoop] = [loops[(2 * id) % LOOPS]!, loops[(2 * id + 1) % LOOPS]!];
  const produce: [Ssrcs, Ssrcs] = [
    { audio: nextSsrc++, video: nextSsrc++ },
    { audio: nextSsrc++, video: nextSsrc++ },
  ];
  const streams: [Map<number, RecvStream>, Map<number, RecvStream>] | undefined = sampled ? [new Map(), new Map()] : undefined;
  pending.set(id, { loops: pair, streams, produce });
  const recvPorts = streams ? ([await bindReceiver(streams[0]), await bindReceiver(streams[1])] as [number, number]) : null;
  return { recvPorts, produce };
}

async function start(id: number, wiring: AddedConsultation): Promise<void> {
  const p = pending.get(id);
  if (!p) throw new Error(`consultation ${id} was not opened here`);
  pending.delete(id);
  const now = performance.now();
  for (const i of [0, 1] as const) {
    const w = wiring.participants[i];
    const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: 1 << 22 });
    sockets.push(socket);
    socket.on('error', () => sent.errors++);
    await new Promise<void>((r) => socket.connect(w.sendPort, IP, r));
    senders.push({
      socket,
      loop: p.loops[i],
      ssrc: p.produce[i],
      seq: { audio: 0, video: 0 },
      frame: { audio: 0, video: 0 },
      // Spread participants over the frame interval, as independent cameras would be.
      next: { audio: now + Math.random() * 20, video: now + Math.random() * 33 },
      pictureId: 0,
    });
    if (p.streams) {
      // This participant receives the other one's streams, sealed under the other's loop key.
      const from = p.loops[1 - i]!;
      for (const kind of ['audio', 'video'] as const) {
        const st: RecvStream = { kind, loop: from, lastSeq: 0, lastIdx: 0, firstIdx: undefined, maxIdx: 0, received: 0, packets: 0, collecting: undefined };
        p.streams[i].set(w.consume[kind], st);
        allStreams.push(st);
      }
    }
  }
}

/** Sends every frame that is due (called every 4 ms; catches up after a late timer). */
function tick(): void {
  if (paused) return;
  const now = performance.now();
  for (const s of senders) {
    while (s.next.audio <= now) {
      sendAudio(s, now);
      s.next.audio += 1000 / AUDIO_FPS;
    }
    while (s.next.video <= now) {
      sendVideo(s, now);
      s.next.video += 1000 / VIDEO_FPS;
    }
  }
}

function header(s: Sender, kind: 'audio' | 'video', marker: boolean, now: number, extra: number, payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(12 + extra + payload.length);
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | (kind === 'audio' ? AUDIO_PT : VIDEO_PT);
  buf.writeUInt16BE(s.seq[kind]++ & 0xffff, 2);
  buf.writeUInt32BE(Math.round(((now - t0) * CLOCK[kind]) / 1000) >>> 0, 4);
  buf.writeUInt32BE(s.ssrc[kind], 8);
  buf.set(payload, 12 + extra);
  return buf;
}

function sendAudio(s: Sender, now: number): void {
  send(s, header(s, 'audio', true, now, 0, s.loop.audio[s.frame.audio++ % s.loop.audio.length]!));
}

function sendVideo(s: Sender, now: number): void {
  const parts = s.loop.video[s.frame.video++ % s.loop.video.length]!;
  const pid = s.pictureId++ & 0x7fff;
  parts.forEach((chunk, i) => {
    const buf = header(s, 'video', i === parts.length - 1, now, 4, chunk);
    // VP8 payload descriptor as Chromium sends it: X, S on the first packet, I with a 15-bit PictureID.
    buf[12] = i === 0 ? 0x90 : 0x80;
    buf[13] = 0x80;
    buf[14] = 0x80 | (pid >> 8);
    buf[15] = pid & 0xff;
    send(s, buf);
  });
}

function send(s: Sender, buf: Buffer): void {
  sent.packets++;
  sent.bytes += buf.length;
  s.socket.send(buf); // connected: no address lookup; errors arrive as 'error' events
}

function receive(streams: Map<number, RecvStream>, msg: Buffer): void {
  const now = performance.now();
  if (msg.length < 12 || (msg[1]! >= 192 && msg[1]! <= 223)) return; // RTCP (RFC 5761)
  const st = streams.get(msg.readUInt32BE(8));
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
  const sentAt = t0 + (msg.readUInt32BE(4) * 1000) / CLOCK[st.kind];
  if (win.delays.length < MAX_DELAY_SAMPLES) win.delays.push(now - sentAt);
  check(st, msg);
}

/** Opens one frame in CHECK_EVERY per stream (reassembled from its packets for video). */
function check(st: RecvStream, msg: Buffer): void {
  let offset = 12 + (msg[0]! & 0x0f) * 4;
  if (msg[0]! & 0x10) offset += 4 + msg.readUInt16BE(offset + 2) * 4;
  const payload = new Uint8Array(msg.buffer, msg.byteOffset + offset, msg.length - offset);
  const marker = (msg[1]! & 0x80) !== 0;
  if (st.kind === 'audio') {
    if (st.packets++ % CHECK_EVERY.audio === 0) openFrame(st, payload.slice());
    return;
  }
  const d = parseVp8Descriptor(payload);
  if (d.start && d.partition === 0) st.collecting = st.packets++ % CHECK_EVERY.video === 0 ? [] : undefined;
  if (!st.collecting) return;
  st.collecting.push(d.data.slice());
  if (marker) {
    openFrame(st, concat(st.collecting));
    st.collecting = undefined;
  }
}

function openFrame(st: RecvStream, frame: Uint8Array): void {
  const w = win;
  const opened = opens(st.loop, st.kind, frame).then((ok) => {
    w.checked++;
    if (!ok) w.badTags++;
  });
  // windowEnd waits for the frames still being opened, so a bad tag at the window's end is counted too.
  w.opening.add(opened);
  void opened.finally(() => w.opening.delete(opened));
}

function windowStart(): void {
  for (const st of allStreams) {
    st.firstIdx = undefined;
    st.received = 0;
    st.collecting = undefined;
  }
  win = { start: performance.now(), delays: [], checked: 0, badTags: 0, opening: new Set() };
}

async function windowEnd(): Promise<E2eWindow> {
  const w = win;
  const out: E2eWindow = { seconds: (performance.now() - w.start) / 1000, expected: 0, received: 0, delays: w.delays, checked: 0, badTags: 0, silentStreams: 0, streams: allStreams.length };
  for (const st of allStreams) {
    if (st.firstIdx === undefined) {
      out.silentStreams++;
      continue;
    }
    out.expected += st.maxIdx - st.firstIdx + 1;
    out.received += st.received;
  }
  // The window's sampled frames still being opened count too: a bad tag at its very end is not lost.
  await Promise.all([...w.opening]);
  out.checked = w.checked;
  out.badTags = w.badTags;
  return out;
}

const timer = setInterval(tick, 4);

serve<GenReq>((req) => {
  switch (req.op) {
    case 'open':
      return open(req.id, req.sampled);
    case 'start':
      return start(req.id, req.wiring);
    case 'pause':
      paused = true;
      return null;
    case 'resume': {
      // Restart each sender's clock from now (spread again), rather than bursting the frames the pause skipped.
      const now = performance.now();
      for (const s of senders) s.next = { audio: now + Math.random() * 20, video: now + Math.random() * 33 };
      paused = false;
      return null;
    }
    case 'counters':
      return { ...sent };
    case 'window-start':
      return windowStart();
    case 'window-end':
      return windowEnd();
    case 'close':
      clearInterval(timer);
      for (const s of sockets) s.close();
      return null;
  }
});
