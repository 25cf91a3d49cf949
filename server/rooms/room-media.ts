// A room's media: its mediasoup Router and every participant's WebRTC
// transports, producers and consumers, with the SFU-facing rules (limits,
// keyframe coalescing, TURN credentials per participant). The Room owns the
// participants and hands this module the lookup; signalling calls in through
// `room.media`. It never sees decrypted media.
import type { Logger } from 'pino';
import type { types } from '../sfu/mediasoup.ts';
import { mediaCodecs } from '../sfu/media-codecs.ts';
import { transportListen, webRtcServerOf, type RouterAppData } from '../sfu/media-listen.ts';
import { SignallingError } from '../signalling/errors.ts';
import type { Peer } from './peer.ts';
import { turnCredentialExpiry } from '../turn/turn-credentials.ts';
import { KeyFrameGate } from './key-frames.ts';
import { LIMITS, type RtcOptions } from './room-options.ts';
import type { IceServer, MediaSource, NotificationName, NotificationOf, ProducerInfo, RequestOf, ResponseOf } from '../../shared/protocol/signalling.ts';

/** How long a connection check's TURN credentials work (ms). */
const CHECK_TURN_TTL_MS = 5 * 60_000;

/** What RoomMedia needs from its Room: the participants. */
export interface RoomPeers {
  /** The participant, or throws SignallingError 'not-joined'. */
  get(peerId: string): Peer;
  all(): Iterable<Peer>;
  broadcast<N extends NotificationName>(except: string, name: N, data: NotificationOf<N>): void;
}

/** What each Router remembers: its worker's pid (tests, ops) and WebRtcServer (transports). */
function routerAppData(worker: types.Worker): RouterAppData {
  const webRtcServer = webRtcServerOf(worker);
  return { workerPid: worker.pid, ...(webRtcServer ? { webRtcServer } : {}) };
}

/** A new Router on `worker` with Confide's codecs. Throws when the worker cannot make one. */
export function createRouter(worker: types.Worker): Promise<types.Router> {
  return worker.createRouter({ mediaCodecs, appData: routerAppData(worker) });
}

export class RoomMedia {
  private readonly keyFrameGate: KeyFrameGate;

  constructor(
    private sfuRouter: types.Router,
    private readonly peers: RoomPeers,
    private readonly rtc: RtcOptions,
    private readonly log: Logger,
    /** A connection check's room: its one participant consumes its own producers (media comes back to it). */
    private readonly loopback = false,
  ) {
    this.keyFrameGate = new KeyFrameGate(rtc.keyFrameEveryMs);
  }

  /** The current mediasoup Router (it changes when the room moves to another worker). */
  get router(): types.Router {
    return this.sfuRouter;
  }

  /** The pid of the SFU worker process under the Router (tests, ops). */
  get workerPid(): number {
    return (this.sfuRouter as unknown as { appData: { workerPid?: number } }).appData.workerPid ?? -1;
  }

  /** Whether participants get a TURN relay. */
  get hasRelay(): boolean {
    return this.rtc.iceServers !== undefined;
  }

  /** Everyone's producers but `except`'s. */
  producerInfos(except?: string): ProducerInfo[] {
    const out: ProducerInfo[] = [];
    for (const p of this.peers.all()) {
      if (p.id === except) continue;
      for (const { producer, source } of p.producers.values()) {
        out.push({ producerId: producer.id, peerId: p.id, kind: producer.kind, source });
      }
    }
    return out;
  }

  async createTransport(peerId: string, _req: RequestOf<'createTransport'>): Promise<ResponseOf<'createTransport'>> {
    const peer = this.peers.get(peerId);
    if (peer.transports.size >= LIMITS.transportsPerPeer) {
      throw new SignallingError('forbidden', 'too many transports');
    }
    const transport = await this.sfuRouter.createWebRtcTransport({
      ...transportListen(this.rtc.listen, this.sfuRouter),
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
    });
    peer.transports.set(transport.id, transport);
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates.map((c) => ({
        foundation: c.foundation,
        priority: c.priority,
        ip: c.ip,
        protocol: c.protocol,
        port: c.port,
        type: 'host' as const,
        ...(c.tcpType ? { tcpType: 'passive' as const } : {}),
      })),
      dtlsParameters: transport.dtlsParameters as ResponseOf<'createTransport'>['dtlsParameters'],
      ...this.relays(peer),
    };
  }

  async connectTransport(peerId: string, req: RequestOf<'connectTransport'>): Promise<void> {
    const transport = this.transport(peerId, req.transportId);
    await this.sfu(() => transport.connect({ dtlsParameters: req.dtlsParameters }));
  }

  async produce(peerId: string, req: RequestOf<'produce'>): Promise<ResponseOf<'produce'>> {
    const peer = this.peers.get(peerId);
    const transport = this.transport(peerId, req.transportId);
    if (peer.producers.size >= LIMITS.producersPerPeer) throw new SignallingError('forbidden', 'too many producers');
    for (const p of peer.producers.values()) {
      if (p.source === req.source) throw new SignallingError('forbidden', `already producing ${req.source}`);
    }
    if ((req.source === 'mic') !== (req.kind === 'audio')) {
      throw new SignallingError('bad-request', `source ${req.source} does not match kind ${req.kind}`);
    }
    const producer = await this.sfu(() =>
      transport.produce({ kind: req.kind, rtpParameters: req.rtpParameters as types.RtpParameters }),
    );
    peer.producers.set(producer.id, { producer, source: req.source });
    producer.observer.on('close', () => peer.producers.delete(producer.id));
    this.peers.broadcast(peerId, 'newProducer', { producerId: producer.id, peerId, kind: producer.kind, source: req.source });
    return { producerId: producer.id };
  }

  closeProducer(peerId: string, req: RequestOf<'closeProducer'>): void {
    const peer = this.peers.get(peerId);
    const entry = peer.producers.get(req.producerId);
    if (!entry) throw new SignallingError('not-found', 'unknown producer');
    entry.producer.close();
    this.peers.broadcast(peerId, 'producerClosed', { producerId: req.producerId });
  }

  async consume(peerId: string, req: RequestOf<'consume'>): Promise<ResponseOf<'consume'>> {
    const peer = this.peers.get(peerId);
    const transport = this.transport(peerId, req.transportId);
    if (peer.consumers.size >= LIMITS.consumersPerPeer) throw new SignallingError('forbidden', 'too many consumers');
    const owner = this.producerOwner(req.producerId);
    if (!owner || (owner.peer === peer && !this.loopback)) throw new SignallingError('not-found', 'unknown producer');
    const rtpCapabilities = req.rtpCapabilities as types.RtpCapabilities;
    if (!this.sfuRouter.canConsume({ producerId: req.producerId, rtpCapabilities })) {
      throw new SignallingError('bad-request', 'cannot consume this producer with these capabilities');
    }
    // Start paused: the client resumes once its consumer exists, so the
    // first packets (and the keyframe the SFU requests) are not lost.
    const consumer = await this.sfu(() =>
      transport.consume({ producerId: req.producerId, rtpCapabilities, paused: true }),
    );
    peer.consumers.set(consumer.id, consumer);
    const gone = () => {
      if (!peer.consumers.delete(consumer.id)) return;
      consumer.close();
      peer.notify('consumerClosed', { consumerId: consumer.id });
    };
    consumer.on('transportclose', () => peer.consumers.delete(consumer.id));
    consumer.on('producerclose', gone);
    return {
      consumerId: consumer.id,
      producerId: req.producerId,
      peerId: owner.peer.id,
      kind: consumer.kind,
      source: owner.source,
      rtpParameters: consumer.rtpParameters as ResponseOf<'consume'>['rtpParameters'],
      producerPaused: consumer.producerPaused,
    };
  }

  async resumeConsumer(peerId: string, req: RequestOf<'resumeConsumer'>): Promise<void> {
    const consumer = this.peers.get(peerId).consumers.get(req.consumerId);
    if (!consumer) throw new SignallingError('not-found', 'unknown consumer');
    await consumer.resume();
  }

  /** Asks the SFU for a keyframe of the consumer's producer, coalesced per producer (key-frames.ts). */
  async requestKeyFrame(peerId: string, req: RequestOf<'requestKeyFrame'>): Promise<void> {
    const consumer = this.peers.get(peerId).consumers.get(req.consumerId);
    if (!consumer) throw new SignallingError('not-found', 'unknown consumer');
    if (consumer.kind === 'video') await this.keyFrameGate.request(consumer);
  }

  /** Keyframe requests passed to the SFU, and those coalesced (tests, ops). */
  get keyFrames(): { requested: number; coalesced: number } {
    return this.keyFrameGate.counts;
  }

  /** New ICE parameters for one of `peerId`'s transports (mediasoup WebRtcTransport.restartIce). */
  async restartIce(peerId: string, req: RequestOf<'restartIce'>): Promise<ResponseOf<'restartIce'>> {
    const transport = this.transport(peerId, req.transportId);
    const iceParameters = await this.sfu(() => transport.restartIce());
    return { iceParameters: iceParameters as ResponseOf<'restartIce'>['iceParameters'], ...this.relays(this.peers.get(peerId)) };
  }

  /**
   * `{ iceServers }` with `peer`'s TURN credential, or nothing when there is
   * no relay. One credential per participant, renewed at half its life: a
   * fresh one per transport or ICE restart would let one holder of a link
   * take every relay port past coturn's per-username quota.
   */
  private relays(peer: Peer): { iceServers?: IceServer[] } {
    if (!this.rtc.iceServers) return {};
    const now = Date.now();
    if (!peer.relay || now >= peer.relay.renewAt) {
      const iceServers = this.rtc.iceServers(this.loopback ? CHECK_TURN_TTL_MS : undefined);
      const expiry = turnCredentialExpiry(iceServers) ?? now;
      peer.relay = { iceServers, renewAt: now + (expiry - now) / 2 };
    }
    return { iceServers: peer.relay.iceServers };
  }

  /** Pauses or resumes one of `peerId`'s producers (mute, camera off) and tells the others. */
  async pauseProducer(peerId: string, req: RequestOf<'pauseProducer'>): Promise<void> {
    const entry = this.peers.get(peerId).producers.get(req.producerId);
    if (!entry) throw new SignallingError('not-found', 'unknown producer');
    if (req.paused) await entry.producer.pause();
    else await entry.producer.resume();
    this.peers.broadcast(peerId, 'producerPaused', { producerId: req.producerId, paused: req.paused });
  }

  /** After a mediaReset: the new Router's capabilities and everyone else's producers. */
  rejoinMedia(peerId: string): ResponseOf<'rejoinMedia'> {
    this.peers.get(peerId).closeMedia();
    return { routerRtpCapabilities: this.sfuRouter.rtpCapabilities, producers: this.producerInfos(peerId) };
  }

  /**
   * Replaces the Router with one on `worker` (its worker died): everyone's
   * transports close; participants stay. Returns false if `stillWanted()`
   * turned false meanwhile (the new Router is then closed).
   */
  async moveTo(worker: types.Worker, stillWanted: () => boolean): Promise<boolean> {
    for (const p of this.peers.all()) p.closeMedia();
    const router = await createRouter(worker);
    if (!stillWanted()) {
      router.close();
      return false;
    }
    this.sfuRouter = router;
    return true;
  }

  /** Closes everyone's transports, the keyframe gate and the Router. */
  close(): void {
    this.keyFrameGate.close();
    for (const peer of this.peers.all()) peer.closeMedia();
    this.sfuRouter.close();
  }

  private transport(peerId: string, transportId: string): types.WebRtcTransport {
    const transport = this.peers.get(peerId).transports.get(transportId);
    if (!transport) throw new SignallingError('not-found', 'unknown transport');
    return transport;
  }

  private producerOwner(producerId: string): { peer: Peer; source: MediaSource } | undefined {
    for (const peer of this.peers.all()) {
      const entry = peer.producers.get(producerId);
      if (entry) return { peer, source: entry.source };
    }
    return undefined;
  }

  /**
   * mediasoup rejects bad parameters with TypeError/Error: report them as the
   * client's fault. Its text stays in the server log (it can name internal
   * state); the client gets a fixed message.
   */
  private async sfu<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SignallingError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ err: message.slice(0, 500) }, 'SFU rejected a request');
      throw new SignallingError('bad-request', 'rejected by the SFU');
    }
  }
}
