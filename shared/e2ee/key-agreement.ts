/**
 * End-to-end key agreement for one participant in one call (docs/protocol.md).
 *
 * Transport-agnostic and pure: it talks to the relay through KeyTransport and
 * to the frame crypto through KeySink, so the same code runs in the browser,
 * in tests and in benchmarks. Nothing it sends is secret to the relay
 * except inside XChaCha20-Poly1305 boxes under pairwise X25519 keys.
 *
 * - start: fresh X25519 key pair, announced with a MAC under the room auth
 *   key; a fresh random media base key (epoch 0).
 * - a participant announced later than us joins: we ratchet our base key
 *   (RFC 9605 §5.1) and give the ratcheted key to the newcomer only, so it
 *   cannot decrypt what we sent before. Existing receivers follow by
 *   ratcheting themselves (they hold two steps of lookahead).
 * - a participant leaves: we draw a new random base key (next epoch), box
 *   it to every remaining participant, and switch when all acknowledged or
 *   after ackTimeoutMs, whichever first.
 * - receivers drop a sender's previous key previousKeyMs after its first
 *   frame under a newer one.
 * @module
 */
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import {
  announcementMac,
  generateKeyPair,
  openKeyBox,
  pairwiseKey,
  sealKeyBox,
  verifyAnnouncement,
  type KeyPair,
} from '../crypto/key-exchange.ts';
import { BASE_KEY_BYTES, kidAfter, makeKid, parseKid, ratchetBaseKey } from '../crypto/key-schedule.ts';
import { safetyCode } from '../crypto/safety-code.ts';
import { equalBytes as sameBytes } from '@noble/ciphers/utils.js';

export interface Announcement {
  peerId: string;
  slot: number;
  publicKey: Uint8Array;
  mac: Uint8Array;
}

export interface Delivery {
  from: string;
  kid: number;
  box: Uint8Array;
}

/** Where keys go (the frame Worker, through E2eeManager). */
export interface KeySink {
  /**
   * `keyFrame`: start the new key on a keyframe. Asked only when some
   * receiver may not have the key yet; an unneeded keyframe costs a visible
   * pause while the pacer sends it.
   */
  setLocalKey(kid: bigint, baseKey: Uint8Array, opts?: { keyFrame: boolean }): Promise<void>;
  /** May return a promise that settles once frames under `kid` can be decrypted. */
  addRemoteKey(peerId: string, kid: bigint, baseKey: Uint8Array): void | Promise<void>;
  removeRemoteKey(kid: bigint): void;
}

/** How messages reach the other participants (signalling, through the server). */
export interface KeyTransport {
  announce(publicKey: Uint8Array, mac: Uint8Array): void;
  deliver(to: string, kid: number, box: Uint8Array): void;
}

export type KeyAgreementEvent =
  | { type: 'warning'; peerId: string; reason: WarningReason }
  | { type: 'changed' }
  | { type: 'localKeySwitched'; kid: bigint }
  /** `peerId` acknowledged our key `kid`: it can decrypt what we send (media, and chat under keys derived from it). */
  | { type: 'peerAcked'; peerId: string; kid: number };

export type WarningReason = 'bad-announcement' | 'key-changed' | 'slot-conflict' | 'bad-key-box' | 'wrong-slot';

export interface Timers {
  setTimeout(fn: () => void, ms: number): () => void;
}

export interface KeyAgreementOptions {
  roomId: string;
  selfId: string;
  slot: number;
  authKey: Uint8Array;
  sink: KeySink;
  transport: KeyTransport;
  onEvent: (e: KeyAgreementEvent) => void;
  timers?: Timers;
  ackTimeoutMs?: number;
  previousKeyMs?: number;
  /** Test-only observer of every base key this participant holds. */
  onKeyMaterial?: (owner: string, kid: bigint, baseKey: Uint8Array) => void;
}

interface HeldKey {
  key: Uint8Array;
  seq: number;
  explicit: boolean;
}

interface RemotePeer {
  id: string;
  slot: number;
  publicKey: Uint8Array;
  pairwise: Uint8Array;
  keys: Map<bigint, HeldKey>;
  current: bigint | undefined;
  /** Nonces of the boxes opened from this peer: a replayed box is refused. */
  opened: Set<string>;
}

interface LocalKey {
  epoch: number;
  step: number;
  kid: bigint;
  key: Uint8Array;
}

const LOOKAHEAD = 2;
const MAX_PENDING_PER_PEER = 16;
const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export class KeyAgreement {
  readonly identity: KeyPair = generateKeyPair();
  private readonly peers = new Map<string, RemotePeer>();
  private readonly rejected = new Set<string>();
  private readonly pending = new Map<string, Delivery[]>();
  private local: LocalKey | undefined;
  private senderOps: Promise<void> = Promise.resolve();
  private awaitingAcks: { kid: number; waiting: Set<string>; done: () => void } | undefined;
  private keySeq = 0;
  private closed = false;
  private readonly timers: Timers;
  private readonly cancels = new Set<() => void>();

  constructor(private readonly o: KeyAgreementOptions) {
    this.timers = o.timers ?? realTimers;
  }

  /** Announces our key and starts sending under a fresh epoch key. */
  async start(): Promise<void> {
    const { authKey, roomId, selfId, slot } = this.o;
    this.o.transport.announce(
      this.identity.publicKey,
      announcementMac(authKey, roomId, selfId, slot, this.identity.publicKey),
    );
    await this.runSenderOp(async () => {
      await this.switchLocal({ epoch: 0, step: 0, key: randomBytes(BASE_KEY_BYTES) });
    });
  }

  /** Someone's announcement; `joinedAfterUs` when it arrived as a live notification. */
  handleAnnouncement(a: Announcement, joinedAfterUs: boolean): void {
    if (this.closed || a.peerId === this.o.selfId) return;
    const known = this.peers.get(a.peerId);
    if (known) {
      if (!sameBytes(known.publicKey, a.publicKey)) this.warn(a.peerId, 'key-changed');
      return;
    }
    const { authKey, roomId } = this.o;
    if (!verifyAnnouncement(authKey, roomId, a.peerId, a.slot, a.publicKey, a.mac)) {
      this.rejected.add(a.peerId);
      this.warn(a.peerId, 'bad-announcement');
      return;
    }
    const slotTaken = a.slot === this.o.slot || [...this.peers.values()].some((p) => p.slot === a.slot);
    if (slotTaken) {
      this.rejected.add(a.peerId);
      this.warn(a.peerId, 'slot-conflict');
      return;
    }
    let pairwise: Uint8Array;
    try {
      pairwise = pairwiseKey(this.identity, a.publicKey, authKey, roomId);
    } catch {
      this.rejected.add(a.peerId);
      this.warn(a.peerId, 'bad-announcement');
      return;
    }
    this.rejected.delete(a.peerId);
    const peer: RemotePeer = { id: a.peerId, slot: a.slot, publicKey: a.publicKey, pairwise, keys: new Map(), current: undefined, opened: new Set() };
    this.peers.set(peer.id, peer);
    void this.runSenderOp(async () => {
      // A newcomer must not read what we sent before it came: ratchet first.
      if (joinedAfterUs && this.local) await this.switchLocal(nextStep(this.local));
      if (this.peers.get(peer.id) === peer) this.sendKey(peer);
    });
    const queued = this.pending.get(peer.id) ?? [];
    this.pending.delete(peer.id);
    for (const d of queued) this.handleDelivery(d);
    this.o.onEvent({ type: 'changed' });
  }

  /** A key box addressed to us. */
  handleDelivery(d: Delivery): void {
    if (this.closed) return;
    const peer = this.peers.get(d.from);
    if (!peer) {
      // Its announcement may still be on its way; keep a few, bounded.
      if (this.rejected.has(d.from)) return;
      const list = this.pending.get(d.from) ?? [];
      if (list.length < MAX_PENDING_PER_PEER) list.push(d);
      this.pending.set(d.from, list);
      return;
    }
    let content;
    try {
      content = openKeyBox(peer.pairwise, { roomId: this.o.roomId, from: peer.id, to: this.o.selfId, kid: d.kid }, d.box);
    } catch {
      this.warn(peer.id, 'bad-key-box');
      return;
    }
    // A relay replaying an old box must not bring back a key we erased (one a
    // leaver knows) nor an old acknowledgement (the KID byte wraps).
    const nonce = bytesToHex(d.box.subarray(0, 24));
    if (peer.opened.has(nonce)) {
      if (content.type === 'key') content.baseKey.fill(0);
      this.warn(peer.id, 'bad-key-box');
      return;
    }
    peer.opened.add(nonce);
    if (content.type === 'ack') {
      const w = this.awaitingAcks;
      if (w && w.kid === d.kid && w.waiting.delete(peer.id) && w.waiting.size === 0) w.done();
      this.o.onEvent({ type: 'peerAcked', peerId: peer.id, kid: d.kid });
      return;
    }
    const kid = BigInt(d.kid);
    if (parseKid(kid).slot !== peer.slot) {
      content.baseKey.fill(0);
      this.warn(peer.id, 'wrong-slot');
      return;
    }
    const installed = this.install(peer, kid, content.baseKey, true);
    // Acknowledge only once the key works: the sender switches on our ack,
    // and frames arriving before the key would be dropped (a video stall).
    void Promise.resolve(installed).then(
      () => {
        if (this.closed || this.peers.get(peer.id) !== peer) return;
        this.o.transport.deliver(peer.id, d.kid, this.box(peer, d.kid, { type: 'ack' }));
      },
      () => undefined,
    );
  }

  handlePeerLeft(peerId: string): void {
    this.pending.delete(peerId);
    this.rejected.delete(peerId);
    const peer = this.peers.get(peerId);
    if (!peer || this.closed) return;
    this.peers.delete(peerId);
    for (const kid of peer.keys.keys()) this.drop(peer, kid);
    peer.pairwise.fill(0);
    const w = this.awaitingAcks;
    if (w && w.waiting.delete(peerId) && w.waiting.size === 0) w.done();
    // It knew our key chain: move to a fresh random key it never sees.
    void this.runSenderOp(() => this.newEpoch());
    this.o.onEvent({ type: 'changed' });
  }

  /** The frame Worker decrypted a first frame from `peerId` under `kid`. */
  handleKidSeen(peerId: string, kid: bigint): void {
    const peer = this.peers.get(peerId);
    const held = peer?.keys.get(kid);
    if (!peer || !held || peer.current === kid) return;
    peer.current = kid;
    this.extendLookahead(peer, kid, held.key);
    // Keys older than this one, not than whatever is current when the timer fires:
    // a second switch within previousKeyMs must not cut short this one's grace.
    const seq = held.seq;
    this.later(this.o.previousKeyMs ?? 2000, () => this.prune(peer, seq));
  }

  /** Our frame counter nears two bytes: ratchet (receivers follow on their own). */
  handleCounterHigh(): void {
    void this.runSenderOp(async () => {
      if (this.local) await this.switchLocal(nextStep(this.local));
    });
  }

  get safetyCode(): string {
    return safetyCode(this.o.roomId, [this.identity.publicKey, ...[...this.peers.values()].map((p) => p.publicKey)]);
  }

  get verifiedPeers(): string[] {
    return [...this.peers.keys()];
  }

  get rejectedPeers(): string[] {
    return [...this.rejected];
  }

  get localKid(): bigint | undefined {
    return this.local?.kid;
  }

  /** Our current base key and its KID (for keys derived from it, e.g. chat). Do not keep it. */
  currentSendKey(): { kid: bigint; key: Uint8Array } | undefined {
    return this.local && { kid: this.local.kid, key: this.local.key };
  }

  /** A verified participant's base key under `kid`, if we hold it. Do not keep it. */
  receiveKey(peerId: string, kid: bigint): Uint8Array | undefined {
    return this.peers.get(peerId)?.keys.get(kid)?.key;
  }

  /** Waits for queued key switches (tests and benchmarks). */
  settled(): Promise<void> {
    return this.senderOps;
  }

  close(): void {
    this.closed = true;
    for (const c of this.cancels) c();
    this.cancels.clear();
    this.awaitingAcks?.done();
    for (const p of this.peers.values()) {
      for (const h of p.keys.values()) h.key.fill(0);
      p.pairwise.fill(0);
    }
    this.peers.clear();
    this.local?.key.fill(0);
    this.local = undefined;
    this.identity.secretKey.fill(0);
  }

  // ---------------------------------------------------------------- sending

  private runSenderOp(op: () => Promise<void>): Promise<void> {
    this.senderOps = this.senderOps.then(() => (this.closed ? undefined : op())).catch(() => undefined);
    return this.senderOps;
  }

  private async switchLocal(next: { epoch: number; step: number; key: Uint8Array }, keyFrame = false): Promise<void> {
    const kid = makeKid({ slot: this.o.slot, epoch: next.epoch, step: next.step });
    this.o.onKeyMaterial?.(this.o.selfId, kid, next.key);
    await this.o.sink.setLocalKey(kid, next.key, { keyFrame });
    this.local?.key.fill(0);
    this.local = { ...next, kid };
    this.o.onEvent({ type: 'localKeySwitched', kid });
  }

  private async newEpoch(): Promise<void> {
    const epoch = (this.local?.epoch ?? -1) + 1;
    const next = { epoch, step: 0, key: randomBytes(BASE_KEY_BYTES) };
    const kid = Number(makeKid({ slot: this.o.slot, epoch, step: 0 }));
    const waiting = new Set(this.peers.keys());
    const acked = new Promise<void>((resolve) => {
      this.awaitingAcks = { kid, waiting, done: resolve };
      if (waiting.size === 0) resolve();
      this.later(this.o.ackTimeoutMs ?? 700, resolve);
    });
    for (const peer of this.peers.values()) {
      this.o.transport.deliver(peer.id, kid, this.box(peer, kid, { type: 'key', baseKey: next.key }));
    }
    await acked;
    this.awaitingAcks = undefined;
    // Someone did not acknowledge in time: it will catch up on a keyframe.
    if (!this.closed) await this.switchLocal(next, waiting.size > 0);
  }

  private sendKey(peer: RemotePeer): void {
    const local = this.local;
    if (!local) return;
    const kid = Number(local.kid);
    this.o.transport.deliver(peer.id, kid, this.box(peer, kid, { type: 'key', baseKey: local.key }));
  }

  private box(peer: RemotePeer, kid: number, content: Parameters<typeof sealKeyBox>[2]): Uint8Array {
    return sealKeyBox(peer.pairwise, { roomId: this.o.roomId, from: this.o.selfId, to: peer.id, kid }, content);
  }

  // -------------------------------------------------------------- receiving

  private install(peer: RemotePeer, kid: bigint, key: Uint8Array, explicit: boolean): void | Promise<void> {
    const old = peer.keys.get(kid);
    if (old && sameBytes(old.key, key)) {
      key.fill(0);
      return;
    }
    old?.key.fill(0);
    peer.keys.set(kid, { key, seq: ++this.keySeq, explicit });
    this.o.onKeyMaterial?.(peer.id, kid, key);
    const applied = this.o.sink.addRemoteKey(peer.id, kid, key);
    this.extendLookahead(peer, kid, key);
    return applied;
  }

  /** Ratchet steps the sender may move to without telling us. */
  private extendLookahead(peer: RemotePeer, kid: bigint, key: Uint8Array): void {
    // A newer key was given to us: the sender goes straight to it and never
    // ratchets this chain further. Extending it (a late kidSeen) would make
    // keys newer than that key, which prune() would then never erase.
    const seq = peer.keys.get(kid)?.seq ?? 0;
    for (const h of peer.keys.values()) if (h.explicit && h.seq > seq) return;
    let k = key;
    for (let i = 1; i <= LOOKAHEAD; i++) {
      const next = kidAfter(kid, i);
      k = ratchetBaseKey(k);
      const held = peer.keys.get(next);
      if (held && sameBytes(held.key, k)) continue;
      held?.key.fill(0);
      peer.keys.set(next, { key: k, seq: ++this.keySeq, explicit: false });
      this.o.onKeyMaterial?.(peer.id, next, k);
      this.o.sink.addRemoteKey(peer.id, next, k);
    }
  }

  /** Drops the keys older than the one (of sequence number `seq`) the sender switched to. */
  private prune(peer: RemotePeer, seq: number): void {
    if (this.peers.get(peer.id) !== peer) return;
    for (const [kid, held] of peer.keys) if (held.seq < seq) this.drop(peer, kid);
  }

  private drop(peer: RemotePeer, kid: bigint): void {
    peer.keys.get(kid)?.key.fill(0);
    peer.keys.delete(kid);
    this.o.sink.removeRemoteKey(kid);
  }

  private later(ms: number, fn: () => void): void {
    const cancel = this.timers.setTimeout(() => {
      this.cancels.delete(cancel);
      fn();
    }, ms);
    this.cancels.add(cancel);
  }

  private warn(peerId: string, reason: WarningReason): void {
    this.o.onEvent({ type: 'warning', peerId, reason });
  }
}

function nextStep(l: LocalKey): { epoch: number; step: number; key: Uint8Array } {
  return { epoch: l.epoch, step: l.step + 1, key: ratchetBaseKey(l.key) };
}
