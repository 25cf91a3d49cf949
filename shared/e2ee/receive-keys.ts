/**
 * The keys we hold to decrypt each verified participant (docs/protocol.md,
 * "KIDs and key schedule"): explicit keys they boxed to us, two ratchet
 * steps of lookahead after each, and the pruning of keys older than the one
 * a sender switched to. Every key added or removed goes to the KeySink (the
 * frame Worker). Pure: used by KeyAgreement only.
 * @module
 */
import { equalBytes } from '@noble/ciphers/utils.js';
import { kidAfter, ratchetBaseKey } from '../crypto/key-schedule.ts';

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

export interface HeldKey {
  /** 32-byte base key. */
  key: Uint8Array;
  /** Order of arrival: older keys are pruned once the sender uses a newer one. */
  seq: number;
  /** Boxed to us (not derived by lookahead). */
  explicit: boolean;
}

/** A participant admitted by a key round: its identity, our pairwise key with it, and its keys we hold. */
export interface RemotePeer {
  id: string;
  slot: number;
  /** X25519 public key (32 B), as revealed and checked against its commitment. */
  publicKey: Uint8Array;
  /** Pairwise box key (32 B). */
  pairwise: Uint8Array;
  keys: Map<bigint, HeldKey>;
  current: bigint | undefined;
  /** Nonces of the boxes opened from this peer: a replayed box is refused. */
  opened: Set<string>;
}

const LOOKAHEAD = 2;

export class ReceiveKeys {
  private seq = 0;

  constructor(
    private readonly sink: KeySink,
    private readonly onKeyMaterial: ((owner: string, kid: bigint, baseKey: Uint8Array) => void) | undefined,
  ) {}

  /** Installs a key for `peer` under `kid` (the same bytes again: nothing). May return the sink's promise. */
  install(peer: RemotePeer, kid: bigint, key: Uint8Array, explicit: boolean): void | Promise<void> {
    const old = peer.keys.get(kid);
    if (old && equalBytes(old.key, key)) {
      key.fill(0);
      return;
    }
    old?.key.fill(0);
    peer.keys.set(kid, { key, seq: ++this.seq, explicit });
    this.onKeyMaterial?.(peer.id, kid, key);
    const applied = this.sink.addRemoteKey(peer.id, kid, key);
    this.extendLookahead(peer, kid, key);
    return applied;
  }

  /** Ratchet steps the sender may move to without telling us. */
  extendLookahead(peer: RemotePeer, kid: bigint, key: Uint8Array): void {
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
      if (held && equalBytes(held.key, k)) continue;
      held?.key.fill(0);
      peer.keys.set(next, { key: k, seq: ++this.seq, explicit: false });
      this.onKeyMaterial?.(peer.id, next, k);
      this.sink.addRemoteKey(peer.id, next, k);
    }
  }

  /** Drops `peer`'s keys older than the one of sequence number `seq`. */
  prune(peer: RemotePeer, seq: number): void {
    for (const [kid, held] of peer.keys) if (held.seq < seq) this.drop(peer, kid);
  }

  /** Erases one key, here and in the sink. */
  drop(peer: RemotePeer, kid: bigint): void {
    peer.keys.get(kid)?.key.fill(0);
    peer.keys.delete(kid);
    this.sink.removeRemoteKey(kid);
  }

  /** Erases all of `peer`'s keys (it left). */
  dropAll(peer: RemotePeer): void {
    for (const kid of [...peer.keys.keys()]) this.drop(peer, kid);
  }
}
