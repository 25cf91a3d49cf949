// A consultation room: the one owner of its mediasoup Router and of every
// participant's transports, producers and consumers (mediasoup-demo's Room
// model). Signalling calls into it; it never sees decrypted media.
import type { Logger } from 'pino';
import type { types } from '../sfu/mediasoup.ts';
import { mediaCodecs } from '../sfu/media-codecs.ts';
import { SignallingError } from '../signalling/errors.ts';
import { Peer, type Notify } from './peer.ts';
import { MAX_SLOTS } from '../../shared/crypto/key-schedule.ts';
import type {
  MediaSource,
  NotificationName,
  NotificationOf,
  PeerInfo,
  ProducerInfo,
  Role,
  RequestOf,
  ResponseOf,
} from '../../shared/protocol/signalling.ts';

export interface RtcOptions {
  listenIp: string;
  announcedIp: string | undefined;
}

export const LIMITS = {
  peersPerRoom: MAX_SLOTS, // one KID slot each
  transportsPerPeer: 2,
  producersPerPeer: 3, // mic, camera, screen
  consumersPerPeer: 64,
};

export class Room {
  private readonly peers = new Map<string, Peer>();
  private closed = false;
  onEmpty: (() => void) | undefined;

  private constructor(
    readonly id: string,
    readonly router: types.Router,
    private readonly rtc: RtcOptions,
    private readonly log: Logger,
  ) {}

  static async create(id: string, worker: types.Worker, rtc: RtcOptions, log: Logger): Promise<Room> {
    const router = await worker.createRouter({ mediaCodecs });
    return new Room(id, router, rtc, log.child({ roomId: id }));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get peerCount(): number {
    return this.peers.size;
  }

  peerInfos(): PeerInfo[] {
    return [...this.peers.values()].map((p) => p.info());
  }

  producerInfos(): ProducerInfo[] {
    const out: ProducerInfo[] = [];
    for (const p of this.peers.values()) {
      for (const { producer, source } of p.producers.values()) {
        out.push({ producerId: producer.id, peerId: p.id, kind: producer.kind, source });
      }
    }
    return out;
  }

  join(peerId: string, displayName: string, role: Role, notify: Notify): Omit<ResponseOf<'join'>, 'waiting'> {
    if (this.closed) throw new SignallingError('not-found', 'room is closed');
    if (this.peers.size >= LIMITS.peersPerRoom) throw new SignallingError('forbidden', 'room is full');
    const existing = { peers: this.peerInfos(), producers: this.producerInfos() };
    const taken = new Set([...this.peers.values()].map((p) => p.slot));
    let slot = 0;
    while (taken.has(slot)) slot++;
    const peer = new Peer(peerId, displayName, role, slot, notify);
    this.peers.set(peerId, peer);
    this.broadcast(peerId, 'peerJoined', peer.info());
    this.log.info({ peerId, slot, peers: this.peers.size }, 'peer joined');
    return { peerId, role, slot, routerRtpCapabilities: this.router.rtpCapabilities, ...existing };
  }

  leave(peerId: string): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.peers.delete(peerId);
    peer.close();
    this.broadcast(peerId, 'peerLeft', { peerId });
    this.log.info({ peerId, peers: this.peers.size }, 'peer left');
    if (this.peers.size === 0) this.close();
  }

  async createTransport(peerId: string, _req: RequestOf<'createTransport'>): Promise<ResponseOf<'createTransport'>> {
    const peer = this.peer(peerId);
    if (peer.transports.size >= LIMITS.transportsPerPeer) {
      throw new SignallingError('forbidden', 'too many transports');
    }
    const transport = await this.router.createWebRtcTransport({
      listenIps: [{ ip: this.rtc.listenIp, announcedIp: this.rtc.announcedIp }],
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
    };
  }

  async connectTransport(peerId: string, req: RequestOf<'connectTransport'>): Promise<void> {
    const transport = this.transport(peerId, req.transportId);
    await this.sfu(() => transport.connect({ dtlsParameters: req.dtlsParameters }));
  }

  async produce(peerId: string, req: RequestOf<'produce'>): Promise<ResponseOf<'produce'>> {
    const peer = this.peer(peerId);
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
    this.broadcast(peerId, 'newProducer', { producerId: producer.id, peerId, kind: producer.kind, source: req.source });
    return { producerId: producer.id };
  }

  closeProducer(peerId: string, req: RequestOf<'closeProducer'>): void {
    const peer = this.peer(peerId);
    const entry = peer.producers.get(req.producerId);
    if (!entry) throw new SignallingError('not-found', 'unknown producer');
    entry.producer.close();
    this.broadcast(peerId, 'producerClosed', { producerId: req.producerId });
  }

  async consume(peerId: string, req: RequestOf<'consume'>): Promise<ResponseOf<'consume'>> {
    const peer = this.peer(peerId);
    const transport = this.transport(peerId, req.transportId);
    if (peer.consumers.size >= LIMITS.consumersPerPeer) throw new SignallingError('forbidden', 'too many consumers');
    const owner = this.producerOwner(req.producerId);
    if (!owner || owner.peer === peer) throw new SignallingError('not-found', 'unknown producer');
    const rtpCapabilities = req.rtpCapabilities as types.RtpCapabilities;
    if (!this.router.canConsume({ producerId: req.producerId, rtpCapabilities })) {
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
    };
  }

  async resumeConsumer(peerId: string, req: RequestOf<'resumeConsumer'>): Promise<void> {
    const consumer = this.peer(peerId).consumers.get(req.consumerId);
    if (!consumer) throw new SignallingError('not-found', 'unknown consumer');
    await consumer.resume();
  }

  async requestKeyFrame(peerId: string, req: RequestOf<'requestKeyFrame'>): Promise<void> {
    const consumer = this.peer(peerId).consumers.get(req.consumerId);
    if (!consumer) throw new SignallingError('not-found', 'unknown consumer');
    if (consumer.kind === 'video') await consumer.requestKeyFrame();
  }

  announceKey(peerId: string, req: RequestOf<'announceKey'>): void {
    const peer = this.peer(peerId);
    // One key per participant per call: a changing key is what a MITM would do.
    if (peer.announcement) throw new SignallingError('forbidden', 'key already announced');
    peer.announcement = { publicKey: req.publicKey, mac: req.mac };
    this.broadcast(peerId, 'keyAnnounced', { peerId, slot: peer.slot, ...peer.announcement });
  }

  sendKey(peerId: string, req: RequestOf<'sendKey'>): void {
    this.peer(peerId);
    const to = this.peers.get(req.to);
    if (!to || to.id === peerId) throw new SignallingError('not-found', 'unknown participant');
    to.notify('keyDelivered', { from: peerId, kid: req.kid, box: req.box });
  }

  /** Relays an (opaque, encrypted) chat chunk to everyone else in the room. */
  relayChat(peerId: string, req: RequestOf<'chatChunk'>): void {
    this.peer(peerId);
    this.broadcast(peerId, 'chatChunk', { from: peerId, ...req });
  }

  /** Byte counters from the SFU for every producer and consumer (tests, ops). */
  async stats(): Promise<{ producers: SfuStat[]; consumers: SfuStat[] }> {
    const producers: SfuStat[] = [];
    const consumers: SfuStat[] = [];
    for (const peer of this.peers.values()) {
      for (const { producer } of peer.producers.values()) {
        const s = await producer.getStats();
        producers.push({ id: producer.id, peerId: peer.id, kind: producer.kind, bytes: sum(s, 'byteCount'), packets: sum(s, 'packetCount') });
      }
      for (const consumer of peer.consumers.values()) {
        const s = (await consumer.getStats()).filter((x) => x.type === 'outbound-rtp');
        consumers.push({ id: consumer.id, peerId: peer.id, kind: consumer.kind, bytes: sum(s, 'byteCount'), packets: sum(s, 'packetCount') });
      }
    }
    return { producers, consumers };
  }

  /** Tells everyone the consultation ended, then closes the room. */
  end(): void {
    for (const p of this.peers.values()) p.notify('consultationEnded', {});
    this.close();
  }

  notifyRole<N extends NotificationName>(role: Role, name: N, data: NotificationOf<N>): void {
    for (const p of this.peers.values()) if (p.role === role) p.notify(name, data);
  }

  /** The role of a participant in this room, if present. */
  roleOf(peerId: string): Role | undefined {
    return this.peers.get(peerId)?.role;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.router.close();
    this.log.info('room closed');
    this.onEmpty?.();
  }

  private peer(peerId: string): Peer {
    const peer = this.peers.get(peerId);
    if (!peer) throw new SignallingError('not-joined', 'not in this room');
    return peer;
  }

  private transport(peerId: string, transportId: string): types.WebRtcTransport {
    const transport = this.peer(peerId).transports.get(transportId);
    if (!transport) throw new SignallingError('not-found', 'unknown transport');
    return transport;
  }

  private producerOwner(producerId: string): { peer: Peer; source: MediaSource } | undefined {
    for (const peer of this.peers.values()) {
      const entry = peer.producers.get(producerId);
      if (entry) return { peer, source: entry.source };
    }
    return undefined;
  }

  private broadcast<N extends NotificationName>(except: string, name: N, data: NotificationOf<N>): void {
    for (const p of this.peers.values()) if (p.id !== except) p.notify(name, data);
  }

  /** mediasoup rejects bad parameters with TypeError/Error: report them as the client's fault. */
  private async sfu<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SignallingError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ err: message }, 'SFU rejected a request');
      throw new SignallingError('bad-request', `rejected by the SFU: ${message.slice(0, 200)}`);
    }
  }
}

export interface SfuStat {
  id: string;
  peerId: string;
  kind: string;
  bytes: number;
  packets: number;
}

function sum(stats: object[], key: 'byteCount' | 'packetCount'): number {
  let total = 0;
  for (const s of stats) total += Number((s as Record<string, unknown>)[key] ?? 0);
  return total;
}
