// A consultation room: the one owner of its participants, their slots and
// key rounds (mediasoup-demo's Room model); their transports, producers and
// consumers live in its RoomMedia (`room.media`). Signalling calls into it;
// it never sees decrypted media.
//
// A participant whose signalling drops stays here, marked reconnecting, for
// the grace period (the signalling layer decides when it is over). If the SFU
// worker under the room dies, moveTo() rebuilds the Router on a live worker
// and tells everyone to rebuild their transports; participants, slots and
// the key round stay, so media keys do too. Every join and leave starts a
// new key round (KeyRounds), whose messages it relays without reading them.
import type { Logger } from 'pino';
import type { types } from '../sfu/mediasoup.ts';
import { SignallingError } from '../signalling/errors.ts';
import { Peer, type Notify } from './peer.ts';
import { KeyRounds } from './key-rounds.ts';
import { createRouter, RoomMedia } from './room-media.ts';
import { LIMITS, type RtcOptions } from './room-options.ts';
import { roomCounts, sfuStats, type RoomCounts, type SfuStat } from './room-stats.ts';
import type {
  KeyRoundInfo,
  LeaveReason,
  NotificationName,
  NotificationOf,
  PeerInfo,
  Role,
  RequestOf,
  ResponseOf,
} from '../../shared/protocol/signalling.ts';

/** How long a connection check may hold its room (ms). */
export const CHECK_MS = 90_000;

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
  /** Its participants' transports, producers and consumers, on its current Router. */
  readonly media: RoomMedia;

  private constructor(
    readonly id: string,
    router: types.Router,
    rtc: RtcOptions,
    private readonly log: Logger,
    /** A connection check's room: its one participant consumes its own producers (media comes back to it). */
    readonly isConnectionCheck = false,
  ) {
    this.media = new RoomMedia(
      router,
      {
        get: (peerId) => this.peer(peerId),
        all: () => this.peers.values(),
        broadcast: (except, name, data) => this.broadcast(except, name, data),
      },
      rtc,
      log,
      isConnectionCheck,
    );
    this.watchWorker();
  }

  /** `loopback`: a connection check's room (see the constructor). Throws when the worker cannot make a Router. */
  static async create(id: string, worker: types.Worker, rtc: RtcOptions, log: Logger, opts: { loopback?: boolean } = {}): Promise<Room> {
    const router = await createRouter(worker);
    const child = log.child({ roomId: id });
    return new Room(id, router, rtc, child, opts.loopback);
  }

  /** The room's current mediasoup Router (it changes when the room moves to another worker). */
  get router(): types.Router {
    return this.media.router;
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

  /** The pid of the SFU worker process hosting this room (tests, ops). */
  get workerPid(): number {
    return this.media.workerPid;
  }

  peerInfos(): PeerInfo[] {
    return [...this.peers.values()].map((p) => p.info());
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
    const existing = { peers: this.peerInfos(), producers: this.media.producerInfos() };
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
      routerRtpCapabilities: this.media.router.rtpCapabilities,
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

  /**
   * Rebuilds the room on `worker` after its worker died: a new Router; every
   * participant keeps its place (slot, key round) and is told to
   * rebuild its transports (`mediaReset`).
   */
  async moveTo(worker: types.Worker): Promise<void> {
    if (this.closed) return;
    if (!(await this.media.moveTo(worker, () => !this.closed))) return;
    this.watchWorker();
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
    return roomCounts(this.peers.values(), this.media.router);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.media.close();
    this.peers.clear();
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
    const router = this.media.router;
    router.on('workerclose', () => {
      if (!this.closed && router === this.media.router) this.onWorkerLost?.();
    });
  }

  private peer(peerId: string): Peer {
    const peer = this.peers.get(peerId);
    if (!peer) throw new SignallingError('not-joined', 'not in this room');
    return peer;
  }

  private broadcast<N extends NotificationName>(except: string, name: N, data: NotificationOf<N>): void {
    for (const p of this.peers.values()) if (p.id !== except) p.notify(name, data);
  }
}
