/**
 * Our own media key (docs/protocol.md, "KIDs and key schedule"): a random
 * epoch-0 key at start, a ratchet step for newcomers (and when the frame
 * counter nears two bytes), a fresh random epoch key when someone leaves,
 * switched to once every remaining participant acknowledged it or after
 * ackTimeoutMs. Switches run one at a time, in order. Pure: used by
 * KeyAgreement only.
 * @module
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { BASE_KEY_BYTES, makeKid, ratchetBaseKey } from '../crypto/key-schedule.ts';
import type { KeySink, RemotePeer } from './receive-keys.ts';

interface LocalKey {
  epoch: number;
  step: number;
  kid: bigint;
  key: Uint8Array;
}

export interface SendKeysOptions {
  selfId: string;
  slot: number;
  sink: KeySink;
  /** Default 700 ms. */
  ackTimeoutMs?: number;
  /** Boxes `baseKey` (32 B) under `kid` to `peer` and sends it. */
  send(peer: RemotePeer, kid: number, baseKey: Uint8Array): void;
  /** The participants admitted now. */
  peers(): Iterable<RemotePeer>;
  /** Is `peer` still admitted? */
  present(peer: RemotePeer): boolean;
  /** Runs `fn` after `ms` milliseconds (cancelled on close). */
  later(ms: number, fn: () => void): void;
  switched(kid: bigint): void;
  onKeyMaterial?: ((owner: string, kid: bigint, baseKey: Uint8Array) => void) | undefined;
}

export class SendKeys {
  private local: LocalKey | undefined;
  private ops: Promise<void> = Promise.resolve();
  private awaitingAcks: { kid: number; waiting: Set<string>; done: () => void } | undefined;
  private closed = false;

  constructor(private readonly o: SendKeysOptions) {}

  /** Our current KID and base key. Do not keep the key. */
  get current(): { kid: bigint; key: Uint8Array } | undefined {
    return this.local && { kid: this.local.kid, key: this.local.key };
  }

  /** Resolves once every queued switch is done. */
  settled(): Promise<void> {
    return this.ops;
  }

  /** A fresh random key, epoch 0. */
  start(): Promise<void> {
    return this.run(() => this.switchTo({ epoch: 0, step: 0, key: randomBytes(BASE_KEY_BYTES) }));
  }

  /**
   * Participants just admitted get our key; with `ratchet` (one of them
   * joined after us) we first step the key forward, so they cannot read what
   * we sent before (receivers already here follow by lookahead).
   */
  admitted(peers: RemotePeer[], ratchet: boolean): void {
    void this.run(async () => {
      if (ratchet && this.local) await this.switchTo(nextStep(this.local));
      const local = this.local;
      if (!local) return;
      for (const p of peers) if (this.o.present(p)) this.o.send(p, Number(local.kid), local.key);
    });
  }

  /** Our frame counter nears two bytes: ratchet (receivers follow on their own). */
  counterHigh(): void {
    void this.run(async () => {
      if (this.local) await this.switchTo(nextStep(this.local));
    });
  }

  /** `peerId` acknowledged our key `kid`. */
  acked(peerId: string, kid: number): void {
    const w = this.awaitingAcks;
    if (w && w.kid === kid && w.waiting.delete(peerId) && w.waiting.size === 0) w.done();
  }

  /** `peerId` left: it knew our key chain, so we move to a fresh random key it never sees. */
  peerLeft(peerId: string): void {
    const w = this.awaitingAcks;
    if (w && w.waiting.delete(peerId) && w.waiting.size === 0) w.done();
    void this.run(() => this.newEpoch());
  }

  close(): void {
    this.closed = true;
    this.awaitingAcks?.done();
    this.local?.key.fill(0);
    this.local = undefined;
  }

  private run(op: () => Promise<void>): Promise<void> {
    this.ops = this.ops.then(() => (this.closed ? undefined : op())).catch(() => undefined);
    return this.ops;
  }

  private async switchTo(next: { epoch: number; step: number; key: Uint8Array }, keyFrame = false): Promise<void> {
    const kid = makeKid({ slot: this.o.slot, epoch: next.epoch, step: next.step });
    this.o.onKeyMaterial?.(this.o.selfId, kid, next.key);
    await this.o.sink.setLocalKey(kid, next.key, { keyFrame });
    this.local?.key.fill(0);
    this.local = { ...next, kid };
    this.o.switched(kid);
  }

  private async newEpoch(): Promise<void> {
    const epoch = (this.local?.epoch ?? -1) + 1;
    const next = { epoch, step: 0, key: randomBytes(BASE_KEY_BYTES) };
    const kid = Number(makeKid({ slot: this.o.slot, epoch, step: 0 }));
    const peers = [...this.o.peers()];
    const waiting = new Set(peers.map((p) => p.id));
    const acked = new Promise<void>((resolve) => {
      this.awaitingAcks = { kid, waiting, done: resolve };
      if (waiting.size === 0) resolve();
      this.o.later(this.o.ackTimeoutMs ?? 700, resolve);
    });
    for (const peer of peers) this.o.send(peer, kid, next.key);
    await acked;
    this.awaitingAcks = undefined;
    // Someone did not acknowledge in time: it will catch up on a keyframe.
    if (!this.closed) await this.switchTo(next, waiting.size > 0);
  }
}

function nextStep(l: LocalKey): { epoch: number; step: number; key: Uint8Array } {
  return { epoch: l.epoch, step: l.step + 1, key: ratchetBaseKey(l.key) };
}
