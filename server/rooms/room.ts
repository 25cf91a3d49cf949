// A consultation room: the one owner of its mediasoup Router and of every
// participant's transports, producers and consumers (mediasoup-demo's Room
// model). Signalling calls into it; it never sees decrypted media.
//
// A participant whose signalling drops stays here, marked reconnecting, for
// the grace period (the signalling layer decides when it is over). If the SFU
// worker under the room dies, moveTo() rebuilds the Router on a live worker
// and tells everyone to rebuild their transports; participants, slots and
// the key round stay, so media keys do too. Every join and leave starts a
// new key round (KeyRounds), whose messages it relays without reading them.
import type { Logger } from 'pino';
import type { types } from '../sfu/mediasoup.ts';
import { mediaCodecs } from '../sfu/media-codecs.ts';
import { transportListen, webRtcServerOf, type MediaListen, type RouterAppData } from '../sfu/media-listen.ts';
import { SignallingError } from '../signalling/errors.ts';
import { Peer, type Notify } from './peer.ts';
import { turnCredentialExpiry } from '../turn/turn-credentials.ts';
import { KeyFrameGate } from './key-frames.ts';
import { KeyRounds } from './key-rounds.ts';
import { roomCounts, sfuStats, type RoomCounts, type SfuStat } from './room-stats.ts';
import { MAX_SLOTS } from '../../shared/crypto/key-schedule.ts';
import type {
  KeyRoundInfo,
  LeaveReason,
  MediaSource,
  NotificationName,
  NotificationOf,
  PeerInfo,
  ProducerInfo,
  IceServer,
  Role,
  RequestOf,
  ResponseOf,
} from '../../shared/protocol/signalling.ts';

export interface RtcOptions {
  /** Where transports listen: the worker's WebRtcServer, or ports of their own. */
  listen: MediaListen;
  /**
   * Fresh TURN relays with a short-lived credential, for each transport a
   * participant opens or restarts (none: no relay); `ttlMs` overrides the
   * configured lifetime (connection checks get minutes).
   */
  iceServers?: (ttlMs?: number) => IceServer[];
  /** A producer is asked for a keyframe at most once per this (ms), however many consumers ask (default 500). */
  keyFrameEveryMs?: number;
}

/** What each Router remembers: its worker's pid (tests, ops) and WebRtcServer (transports). */
function routerAppData(worker: types.Worker): RouterAppData {
  const webRtcServer = webRtcServerOf(worker);
  return { workerPid: worker.pid, ...(webRtcServer ? { webRtcServer } : {}) };
}

/** How long a connection check may hold its room (ms), and how long its TURN credentials work. */
export const CHECK_MS = 90_000;
const CHECK_TURN_TTL_MS = 5 * 60_000;

export const LIMITS = {
  peersPerRoom: MAX_SLOTS, // one KID slot each
  transportsPerPeer: 2,
  producersPerPeer: 3, // mic, camera, screen
  consumersPerPeer: 64,
};

/** Who joins: the connection's peer id, and the person behind it. */
export interface Joiner {
  peerId: string;
  participantId: string;
  displayName: string;
  role: Role;
  notify: Notify;
  /** Whether its connection keeps up with what is sent to it (the chat relay skips it otherwise). */
  canTakeChat?: () => boolean;
}

export class Room {
  private readonly peers = new Map<string, Peer>();
  private readonly keyRounds = new KeyRounds();
  private closed = false;
  /** Called once, when the room closes (last participant gone, or ended). */
  onEmpty: (() => void) | undefined;
  /** Called when the SFU worker under the room died (the registry moves the room). */
  onWorkerLost: (() => void) | undefined;
  private readonly keyFrameGate: KeyFrameGate;

  private constructor(
    readonly id: string,
    private sfuRouter: types.Router,
    private readonly rtc: RtcOptions,
    private readonly log: Logger,
    /** A connection check's room: its one participant consumes its own producers (media comes back to it). */
    private readonly loopback = false,
  ) {
    this.keyFrameGate = new KeyFrameGate(rtc.keyFrameEveryMs);
    this.watchWorker();
  }

  /** `loopback`: a connection check's room (see the constructor). Throws when the worker cannot make a Router. */
  static async create(id: string, worker: types.Worker, rtc: RtcOptions, log: Logger, opts: { loopback?: boolean } = {}): Promise<Room> {
    const router = await worker.createRouter({ mediaCodecs, appData: routerAppData(worker) });
    return new Room(id, router, rtc, log.child({ roomId: id }), opts.loopback);
  }

  /** The room's current mediasoup Router (it changes when the room moves to another worker). */
  get router(): types.Router {
    return this.sfuRouter;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get peerCount(): number {
    return this.peers.size;
  }

  /** WebRTC transports its participants hold (ops: metrics). */
  get transportCount(): number {
    let n = 0;
    for (const p of this.peers.values()) n += p.transports.size;
    return n;
  }

  /** Whether its participants get a TURN relay. */
  get hasRelay(): boolean {
    return this.rtc.iceServers !== undefined;
  }

  /** The pid of the SFU worker process hosting this room (tests, ops). */
  get workerPid(): number {
    return (this.sfuRouter as unknown as { appData: { workerPid?: number } }).appData.workerPid ?? -1;
  }

  peerInfos(): PeerInfo[] {
    return [...this.peers.values()].map((p) => p.info());
  }

  producerInfos(except?: string): ProducerInfo[] {
    const out: ProducerInfo[] = [];
    for (const p of this.peers.values()) {
      if (p.id === except) continue;
      for (const { producer, source } of p.producers.values()) {
        out.push({ producerId: producer.id, peerId: p.id, kind: producer.kind, source });
      }
    }
    return out;
  }

  /**
   * Adds a participant. The same person already here (a reload, a second
   * tab, a rejoin after the grace period of a connection that is in fact
   * dead) is replaced: its old connection is told `replaced` and leaves.
   */
  join(j: Joiner): Omit<ResponseOf<'join'>, 'waiting' | 'rejoinToken' | 'linksExpireAt'> {
    if (this.closed) throw new SignallingError('not-found', 'room is closed');
    let replaced = false;
    for (const p of [...this.peers.values()]) {
      if (p.participantId === j.participantId && p.id !== j.peerId) {
        p.notify('replaced', {});
        // One key round for the swap, started below.
        this.leave(p.id, 'replaced', { keepOpen: true });
        replaced = true;
      }
    }
    if (this.peers.size >= LIMITS.peersPerRoom) {
      if (replaced) this.startKeyRound();
      throw new SignallingError('forbidden', 'room is full');
    }
    const existing = { peers: this.peerInfos(), producers: this.producerInfos() };
    const taken = new Set([...this.peers.values()].map((p) => p.slot));
    let slot = 0;
    while (taken.has(slot)) slot++;
    const peer = new Peer(j.peerId, j.participantId, j.displayName, j.role, slot, j.notify, j.canTakeChat);
    this.peers.set(j.peerId, peer);
    this.broadcast(j.peerId, 'peerJoined', peer.info());
    const keyRound = this.startKeyRound(j.peerId);
    this.log.info({ peerId: j.peerId, slot, peers: this.peers.size, keyRound: keyRound.round }, 'peer joined');
    return {
      peerId: j.peerId,
      participantId: j.participantId,
      role: j.role,
      slot,
      routerRtpCapabilities: this.sfuRouter.rtpCapabilities,
      ...existing,
      keyRound,
    };
  }

  /** Removes a participant; the room closes with its last one unless `keepOpen` (a replacement follows). */
  leave(peerId: string, reason: LeaveReason = 'left', opts: { keepOpen?: boolean } = {}): void {
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.peers.delete(peerId);
    peer.closeMedia();
    this.broadcast(peerId, 'peerLeft', { peerId, reason });
    this.log.info({ peerId, reason, peers: this.peers.size }, 'peer left');
    if (opts.keepOpen) return;
    if (this.peers.size === 0) this.close();
    else this.startKeyRound();
  }

  has(peerId: string): boolean {
    return this.peers.has(peerId);
  }

  /** Marks a participant's signalling as dropped (or back) and tells the others. */
  setReconnecting(peerId: string, reconnecting: boolean): void {
    const peer = this.peers.get(peerId);
    if (!peer || peer.reconnecting === reconnecting) return;
    peer.reconnecting = reconnecting;
    this.broadcast(peerId, 'peerConnection', { peerId, state: reconnecting ? 'reconnecting' : 'connected' });
  }

  /** Everyone whose signalling is currently dropped. */
  reconnectingPeers(): string[] {
    return [...this.peers.values()].filter((p) => p.reconnecting).map((p) => p.id);
  }

  async createTransport(peerId: string, _req: RequestOf<'createTransport'>): Promise<ResponseOf<'createTransport'>> {
    const peer = this.peer(peerId);
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
    const consumer = this.peer(peerId).consumers.get(req.consumerId);
    if (!consumer) throw new SignallingError('not-found', 'unknown consumer');
    await consumer.resume();
  }

  /** Asks the SFU for a keyframe of the consumer's producer, coalesced per producer (key-frames.ts). */
  async requestKeyFrame(peerId: string, req: RequestOf<'requestKeyFrame'>): Promise<void> {
    const consumer = this.peer(peerId).consumers.get(req.consumerId);
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
    return { iceParameters: iceParameters as ResponseOf<'restartIce'>['iceParameters'], ...this.relays(this.peer(peerId)) };
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
    const entry = this.peer(peerId).producers.get(req.producerId);
    if (!entry) throw new SignallingError('not-found', 'unknown producer');
    if (req.paused) await entry.producer.pause();
    else await entry.producer.resume();
    this.broadcast(peerId, 'producerPaused', { producerId: req.producerId, paused: req.paused });
  }

  /** After a mediaReset: the new Router's capabilities and everyone else's producers. */
  rejoinMedia(peerId: string): ResponseOf<'rejoinMedia'> {
    const peer = this.peer(peerId);
    peer.closeMedia();
    return { routerRtpCapabilities: this.sfuRouter.rtpCapabilities, producers: this.producerInfos(peerId) };
  }

  /**
   * Rebuilds the room on `worker` after its worker died: a new Router; every
   * participant keeps its place (slot, key round) and is told to
   * rebuild its transports (`mediaReset`).
   */
  async moveTo(worker: types.Worker): Promise<void> {
    if (this.closed) return;
    for (const p of this.peers.values()) p.closeMedia();
    this.sfuRouter = await worker.createRouter({ mediaCodecs, appData: routerAppData(worker) });
    this.watchWorker();
    if (this.closed) {
      this.sfuRouter.close();
      return;
    }
    this.log.warn({ workerPid: worker.pid, peers: this.peers.size }, 'room moved to a new SFU worker');
    for (const p of this.peers.values()) p.notify('mediaReset', {});
  }

  /** Relays `peerId`'s commitment of the current key round (one per round: see KeyRounds). */
  keyCommit(peerId: string, req: RequestOf<'keyCommit'>): void {
    this.peer(peerId);
    if (this.keyRounds.commit(peerId, req)) this.broadcast(peerId, 'keyCommitted', { peerId, ...req });
  }

  /** Relays `peerId`'s reveal of the current key round (one per round, after every commitment). */
  keyReveal(peerId: string, req: RequestOf<'keyReveal'>): void {
    this.peer(peerId);
    if (this.keyRounds.reveal(peerId, req)) this.broadcast(peerId, 'keyRevealed', { peerId, ...req });
  }

  sendKey(peerId: string, req: RequestOf<'sendKey'>): void {
    this.peer(peerId);
    const to = this.peers.get(req.to);
    if (!to || to.id === peerId) throw new SignallingError('not-found', 'unknown participant');
    to.notify('keyDelivered', { from: peerId, kid: req.kid, box: req.box });
  }

  /**
   * Relays an (opaque, encrypted) chat chunk to everyone else in the room who
   * keeps up; returns the peer ids of those skipped for being too far behind
   * (back-pressure: nothing piles up for a receiver that stopped reading).
   */
  relayChat(peerId: string, req: RequestOf<'chatChunk'>): string[] {
    this.peer(peerId);
    const behind: string[] = [];
    for (const p of this.peers.values()) {
      if (p.id === peerId) continue;
      if (p.canTakeChat()) p.notify('chatChunk', { from: peerId, ...req });
      else behind.push(p.id);
    }
    return behind;
  }

  /** Byte counters from the SFU for every producer and consumer (tests, ops). */
  stats(): Promise<{ producers: SfuStat[]; consumers: SfuStat[] }> {
    return sfuStats(this.peers.values());
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

  /** Counts of what the room holds, and what the SFU holds for it (no orphans: tests, ops). */
  counts(): Promise<RoomCounts> {
    return roomCounts(this.peers.values(), this.sfuRouter);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.keyFrameGate.close();
    for (const peer of this.peers.values()) peer.closeMedia();
    this.peers.clear();
    this.sfuRouter.close();
    this.log.info('room closed');
    this.onEmpty?.();
  }

  /** The next key round, for everyone here; told to all but `joiner` (whose join answer carries it). */
  private startKeyRound(joiner?: string): KeyRoundInfo {
    const info = this.keyRounds.next([...this.peers.values()].map((p) => ({ peerId: p.id, slot: p.slot })));
    for (const p of this.peers.values()) if (p.id !== joiner) p.notify('keyRound', info);
    return info;
  }

  private watchWorker(): void {
    const router = this.sfuRouter;
    router.on('workerclose', () => {
      if (!this.closed && router === this.sfuRouter) this.onWorkerLost?.();
    });
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
