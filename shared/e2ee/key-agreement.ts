/**
 * End-to-end key agreement for one participant in one call (docs/protocol.md).
 *
 * Transport-agnostic and pure: it talks to the relay through KeyTransport and
 * to the frame crypto through KeySink, so the same code runs in the browser,
 * in tests and in benchmarks. Nothing it sends is secret to the relay
 * except inside XChaCha20-Poly1305 boxes under pairwise X25519 keys.
 *
 * - key rounds: every change of membership the relay announces is a round
 *   (KeyRound): we commit to our X25519 public key and a fresh nonce (MAC'd
 *   under the room auth key), reveal them once we hold every other member's
 *   commitment, and check every reveal against its commitment. When all
 *   reveals are in, the round is complete: members seen for the first time
 *   are admitted (pairwise key), and the safety code is derived from every
 *   public key and nonce of the round. A refused commitment or reveal is a
 *   security warning, and that participant gets no key box.
 * - start: a fresh X25519 identity for this membership; a fresh random media
 *   base key (epoch 0).
 * - a participant admitted who joined after us: we ratchet our base key
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
import { bytesToHex } from '@noble/hashes/utils.js';
import { equalBytes as sameBytes } from '@noble/ciphers/utils.js';
import { generateKeyPair, openKeyBox, pairwiseKey, sealKeyBox, type KeyPair } from '../crypto/key-exchange.ts';
import { parseKid } from '../crypto/key-schedule.ts';
import { validMembers } from '../crypto/key-commitment.ts';
import { SAFETY_CODE_DIGITS } from '../crypto/safety-code.ts';
import { KeyRound, type Verdict } from './key-round.ts';
import { ReceiveKeys, type RemotePeer } from './receive-keys.ts';
import { SendKeys } from './send-keys.ts';
import type {
  Commitment,
  Delivery,
  KeyAgreementOptions,
  Reveal,
  RoundInfo,
  Timers,
  WarningReason,
} from './key-agreement-types.ts';

export type * from './key-agreement-types.ts';

const MAX_PENDING_PER_PEER = 16;
const MAX_PENDING_PEERS = 16;
/**
 * Rounds abandoned (a newer one began) after we revealed but before every
 * reveal came: each is an attempt a man in the middle could have made and
 * dropped on seeing the codes differ. The third one in a membership is a warning.
 */
export const MAX_ABORTED_ROUNDS = 3;
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
  private readonly receive: ReceiveKeys;
  private round: KeyRound | undefined;
  /** Who was in our first round: they were there before us (no ratchet for them). */
  private firstMembers: Set<string> | undefined;
  private abortedRounds = 0;
  private code: string | undefined;
  private readonly send: SendKeys;
  private closed = false;
  private readonly timers: Timers;
  private readonly cancels = new Set<() => void>();

  constructor(private readonly o: KeyAgreementOptions) {
    this.timers = o.timers ?? realTimers;
    this.receive = new ReceiveKeys(o.sink, o.onKeyMaterial);
    this.send = new SendKeys({
      selfId: o.selfId,
      slot: o.slot,
      sink: o.sink,
      ...(o.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: o.ackTimeoutMs }),
      send: (peer, kid, baseKey) => this.o.transport.deliver(peer.id, kid, this.box(peer, kid, { type: 'key', baseKey })),
      peers: () => this.peers.values(),
      present: (peer) => this.peers.get(peer.id) === peer,
      later: (ms, fn) => this.later(ms, fn),
      switched: (kid) => this.o.onEvent({ type: 'localKeySwitched', kid }),
      onKeyMaterial: o.onKeyMaterial,
    });
  }

  /** Starts sending under a fresh epoch key and enters our first round (from the join answer). */
  async start(first: RoundInfo): Promise<void> {
    const started = this.send.start();
    this.handleRound(first);
    await started;
  }

  /**
   * The relay announced a round. Ignored unless it is newer than ours, its
   * member list is valid, holds us at our slot, and differs from the current
   * round's (a round is a change of membership). A member the page does not
   * show (options.isParticipant) is refused with a warning, so a new round
   * needs a change of membership people can see.
   */
  handleRound(info: RoundInfo): void {
    if (this.closed) return;
    const old = this.round;
    if (old && info.round <= old.round) return;
    if (!validMembers(info.members) || !info.members.some((m) => m.peerId === this.o.selfId && m.slot === this.o.slot)) return;
    if (old?.sameMembers(info.members)) return;
    let round: KeyRound;
    try {
      const { roomId, selfId, slot, authKey } = this.o;
      round = new KeyRound(info.round, info.members, { roomId, peerId: selfId, slot, authKey, publicKey: this.identity.publicKey });
    } catch {
      return; // a round number out of range
    }
    if (old && old.revealed && !old.completed && ++this.abortedRounds >= MAX_ABORTED_ROUNDS) {
      for (const id of old.missingReveals()) this.warn(id, 'rounds-aborted');
    }
    this.firstMembers ??= new Set(info.members.map((m) => m.peerId));
    this.round = round;
    // The code covers the member list, but people see tiles: a member with no tile would get keys unseen.
    for (const m of info.members) {
      if (m.peerId === this.o.selfId || !this.o.isParticipant || this.o.isParticipant(m.peerId)) continue;
      round.exclude(m.peerId);
      this.warn(m.peerId, 'unknown-member');
      if (!this.peers.has(m.peerId)) this.reject(m.peerId);
    }
    this.code = undefined;
    this.o.transport.commit(round.round, round.commitment, round.mac);
    this.progress(round);
    this.o.onEvent({ type: 'changed' });
  }

  /** A member's commitment in a round. */
  handleCommitment(c: Commitment): void {
    const round = this.round;
    if (this.closed || !round || c.round !== round.round) return;
    const verdict = round.addCommitment(c.peerId, c.commitment, c.mac);
    this.verdict(c.peerId, verdict);
    const early = verdict === 'ok' ? round.takeEarlyReveal(c.peerId) : undefined;
    if (early) this.handleReveal({ peerId: c.peerId, round: c.round, ...early });
    else this.progress(round);
  }

  /** A member's reveal in a round. */
  handleReveal(r: Reveal): void {
    const round = this.round;
    if (this.closed || !round || r.round !== round.round) return;
    const verdict = round.addReveal(r.peerId, r.publicKey, r.nonce);
    this.verdict(r.peerId, verdict);
    if (verdict === 'ok') {
      // An admitted participant keeps the identity it was admitted with.
      const known = this.peers.get(r.peerId);
      const other = [...this.peers.values()].find((p) => p.id !== r.peerId && sameBytes(p.publicKey, r.publicKey));
      if ((known && !sameBytes(known.publicKey, r.publicKey)) || other) {
        round.exclude(r.peerId);
        this.warn(r.peerId, known ? 'key-changed' : 'bad-reveal');
        if (!known) this.reject(r.peerId);
      }
    }
    this.progress(round);
  }

  /** Sends our commitment (and reveal) of the current round again: after a resume, a request may have been lost. */
  resend(): void {
    const round = this.round;
    if (this.closed || !round) return;
    this.o.transport.commit(round.round, round.commitment, round.mac);
    if (round.revealed) this.o.transport.reveal(round.round, this.identity.publicKey, round.nonce);
  }

  /** A key box addressed to us. */
  handleDelivery(d: Delivery): void {
    if (this.closed) return;
    const peer = this.peers.get(d.from);
    if (!peer) {
      // Its round may not be complete yet; keep a few, bounded.
      if (this.rejected.has(d.from)) return;
      const list = this.pending.get(d.from) ?? [];
      if (!this.pending.has(d.from) && this.pending.size >= MAX_PENDING_PEERS) return;
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
      this.send.acked(peer.id, d.kid);
      this.o.onEvent({ type: 'peerAcked', peerId: peer.id, kid: d.kid });
      return;
    }
    const kid = BigInt(d.kid);
    if (parseKid(kid).slot !== peer.slot) {
      content.baseKey.fill(0);
      this.warn(peer.id, 'wrong-slot');
      return;
    }
    const installed = this.receive.install(peer, kid, content.baseKey, true);
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
    this.receive.dropAll(peer);
    peer.pairwise.fill(0);
    this.send.peerLeft(peerId);
    this.o.onEvent({ type: 'changed' });
  }

  /** The frame Worker decrypted a first frame from `peerId` under `kid`. */
  handleKidSeen(peerId: string, kid: bigint): void {
    const peer = this.peers.get(peerId);
    const held = peer?.keys.get(kid);
    if (!peer || !held || peer.current === kid) return;
    peer.current = kid;
    this.receive.extendLookahead(peer, kid, held.key);
    // Keys older than this one, not than whatever is current when the timer fires:
    // a second switch within previousKeyMs must not cut short this one's grace.
    const seq = held.seq;
    this.later(this.o.previousKeyMs ?? 2000, () => {
      if (this.peers.get(peer.id) === peer) this.receive.prune(peer, seq);
    });
  }

  /** Our frame counter nears two bytes: ratchet (receivers follow on their own). */
  handleCounterHigh(): void {
    this.send.counterHigh();
  }

  /** The current round's code once it completed on our side; undefined while a round is under way. */
  get safetyCode(): string | undefined {
    return this.code;
  }

  /** The current round's number, and whether it completed on our side (tests, benchmarks). */
  get roundState(): { round: number; complete: boolean } | undefined {
    return this.round && { round: this.round.round, complete: this.round.completed };
  }

  get verifiedPeers(): string[] {
    return [...this.peers.keys()];
  }

  get rejectedPeers(): string[] {
    return [...this.rejected];
  }

  get localKid(): bigint | undefined {
    return this.send.current?.kid;
  }

  /** Our current base key and its KID (for keys derived from it, e.g. chat). Do not keep it. */
  currentSendKey(): { kid: bigint; key: Uint8Array } | undefined {
    return this.send.current;
  }

  /** A verified participant's base key under `kid`, if we hold it. Do not keep it. */
  receiveKey(peerId: string, kid: bigint): Uint8Array | undefined {
    return this.peers.get(peerId)?.keys.get(kid)?.key;
  }

  /** Waits for queued key switches (tests and benchmarks). */
  settled(): Promise<void> {
    return this.send.settled();
  }

  close(): void {
    this.closed = true;
    for (const c of this.cancels) c();
    this.cancels.clear();
    this.send.close();
    for (const p of this.peers.values()) {
      for (const h of p.keys.values()) h.key.fill(0);
      p.pairwise.fill(0);
    }
    this.peers.clear();
    this.identity.secretKey.fill(0);
  }

  // ----------------------------------------------------------------- rounds

  private verdict(peerId: string, v: Verdict): void {
    if (v === 'ok' || v === 'ignored') return;
    this.warn(peerId, v);
    // An admitted participant keeps its verified identity; it is only left out of this round's code.
    if (!this.peers.has(peerId)) this.reject(peerId);
  }

  private reject(peerId: string): void {
    this.rejected.add(peerId);
    this.pending.delete(peerId);
  }

  /** Reveals once every commitment is in; completes once every reveal is in. */
  private progress(round: KeyRound): void {
    if (round !== this.round || this.closed) return;
    if (!round.revealed && round.readyToReveal()) {
      round.revealed = true;
      this.o.transport.reveal(round.round, this.identity.publicKey, round.nonce);
    }
    if (round.revealed && !round.completed && round.allRevealed()) this.complete(round);
  }

  private complete(round: KeyRound): void {
    round.completed = true;
    const admitted: RemotePeer[] = [];
    for (const [id, { slot, publicKey }] of round.verified()) {
      if (this.peers.has(id) || this.rejected.has(id)) continue;
      const peer = this.admit(id, slot, publicKey);
      if (peer) admitted.push(peer);
    }
    this.code = round.code(this.o.safetyCodeDigits ?? SAFETY_CODE_DIGITS);
    // A newcomer must not read what we sent before it came: ratchet first (once for all of them).
    if (admitted.length > 0) this.send.admitted(admitted, admitted.some((p) => !this.firstMembers?.has(p.id)));
    for (const p of admitted) {
      const queued = this.pending.get(p.id) ?? [];
      this.pending.delete(p.id);
      for (const d of queued) this.handleDelivery(d);
    }
    this.o.onEvent({ type: 'roundComplete', round: round.round, code: this.code });
    this.o.onEvent({ type: 'changed' });
  }

  /** A member whose reveal opened its commitment, seen for the first time. */
  private admit(id: string, slot: number, publicKey: Uint8Array): RemotePeer | undefined {
    if ([...this.peers.values()].some((p) => p.slot === slot)) {
      this.warn(id, 'slot-conflict');
      this.reject(id);
      return undefined;
    }
    let pairwise: Uint8Array;
    try {
      pairwise = pairwiseKey(this.identity, publicKey, this.o.authKey, this.o.roomId);
    } catch {
      this.warn(id, 'bad-reveal'); // a low-order key
      this.reject(id);
      return undefined;
    }
    const peer: RemotePeer = { id, slot, publicKey, pairwise, keys: new Map(), current: undefined, opened: new Set() };
    this.peers.set(id, peer);
    return peer;
  }

  // ---------------------------------------------------------------- helpers

  private box(peer: RemotePeer, kid: number, content: Parameters<typeof sealKeyBox>[2]): Uint8Array {
    return sealKeyBox(peer.pairwise, { roomId: this.o.roomId, from: this.o.selfId, to: peer.id, kid }, content);
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
