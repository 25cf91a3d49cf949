/**
 * One synthetic Confide node for the SFU capacity bench: a separate process
 * owning its own mediasoup WorkerPool (as a server process does), hosting
 * whole consultations. Run by sfu-cluster.ts through BenchChild; argv[2] is
 * the pool size (workers), argv[3..4] the RTC port range.
 *
 * Per participant, as a browser's mediasoup-client does: a send transport
 * (PlainTransport, comedia: it learns the sender's address from the first
 * packet) producing Opus + VP8 with the SSRCs given, and a receive transport
 * connected to `recvPort` consuming the other participant's two producers.
 *
 * Requests: add → AddedConsultation; stats → NodeCounters (cumulative, from
 * mediasoup's own getStats); pids → worker pids; close.
 */
import pino from 'pino';
import { WorkerPool } from '../../server/sfu/worker-pool.ts';
import { mediaCodecs } from '../../server/sfu/media-codecs.ts';
import type { types } from '../../server/sfu/mediasoup.ts';
import { serve } from './sfu-ipc.ts';
import { AUDIO_PT, VIDEO_PT, type AddedConsultation, type NodeCounters, type Ssrcs } from './sfu-wire.ts';

const IP = '127.0.0.1';

export type NodeReq =
  | { op: 'add'; recvPorts: [number, number]; produce: [Ssrcs, Ssrcs] }
  | { op: 'stats' }
  | { op: 'pids' }
  | { op: 'close' };

async function main(): Promise<void> {
  const [size, min, max] = process.argv.slice(2).map(Number);
  const pool = await WorkerPool.create({ size: size!, rtcMinPort: min!, rtcMaxPort: max!, logger: pino({ level: 'silent' }) });
  const producers: types.Producer[] = [];
  const consumers: types.Consumer[] = [];

  async function add(recvPorts: [number, number], produce: [Ssrcs, Ssrcs]): Promise<AddedConsultation> {
    const router = await pool.nextWorker().createRouter({ mediaCodecs });
    const sides = await Promise.all(
      ([0, 1] as const).map(async (i) => {
        const send = await router.createPlainTransport({ listenIp: IP, rtcpMux: true, comedia: true });
        const recv = await router.createPlainTransport({ listenIp: IP, rtcpMux: true, comedia: false });
        await recv.connect({ ip: IP, port: recvPorts[i] });
        const ssrc = produce[i];
        const audio = await send.produce({
          kind: 'audio',
          rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: ssrc.audio }] },
        });
        const video = await send.produce({
          kind: 'video',
          rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: VIDEO_PT, clockRate: 90000 }], encodings: [{ ssrc: ssrc.video }] },
        });
        producers.push(audio, video);
        return { send, recv, audio, video };
      }),
    );
    const wiring = await Promise.all(
      ([0, 1] as const).map(async (i) => {
        const me = sides[i]!;
        const peer = sides[1 - i]!;
        const ssrcOf = async (p: types.Producer) => {
          const c = await me.recv.consume({ producerId: p.id, rtpCapabilities: router.rtpCapabilities });
          consumers.push(c);
          const s = c.rtpParameters.encodings?.[0]?.ssrc;
          if (s === undefined) throw new Error('consumer without an SSRC');
          return s;
        };
        return { sendPort: me.send.tuple.localPort, produce: produce[i], consume: { audio: await ssrcOf(peer.audio), video: await ssrcOf(peer.video) } };
      }),
    );
    return { participants: [wiring[0]!, wiring[1]!] };
  }

  async function stats(): Promise<NodeCounters> {
    const out: NodeCounters = { producerPackets: 0, producerLost: 0, consumerPackets: 0, consumers: consumers.length };
    // A consumer's stats carry its producer's inbound stream too: both read in one worker call.
    for (const list of await Promise.all(consumers.map((c) => c.getStats()))) {
      for (const s of list) {
        if (s.type === 'outbound-rtp') out.consumerPackets += s.packetCount;
        else if (s.type === 'inbound-rtp') {
          out.producerPackets += s.packetCount;
          out.producerLost += Math.max(0, s.packetsLost);
        }
      }
    }
    return out;
  }

  serve<NodeReq>((req) => {
    switch (req.op) {
      case 'add':
        return add(req.recvPorts, req.produce);
      case 'stats':
        return stats();
      case 'pids':
        return pool.pids;
      case 'close':
        pool.close();
        return null;
    }
  });
}

await main();
