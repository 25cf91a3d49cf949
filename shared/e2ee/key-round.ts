/**
 * One key round, as one participant sees it (docs/protocol.md, "Key rounds"):
 * our fresh nonce and commitment, the others' commitments (MAC-checked) and
 * reveals (checked against their commitments), and when we may reveal
 * (every other member committed, or was refused) and when the round is
 * complete (every other member revealed, or was refused). Pure bookkeeping:
 * KeyAgreement sends, warns and admits.
 * @module
 */
import { equalBytes } from '@noble/ciphers/utils.js';
import { randomBytes } from '@noble/hashes/utils.js';
import {
  NONCE_BYTES,
  commitTo,
  commitmentMac,
  revealMatches,
  roundContext,
  verifyCommitmentMac,
  type RoundMember,
} from '../crypto/key-commitment.ts';
import { safetyCode, type Contribution } from '../crypto/safety-code.ts';

/** What became of one message: taken, of no concern (old, unknown sender, duplicate), or refused (and why). */
export type Verdict = 'ok' | 'ignored' | 'bad-commitment' | 'bad-reveal';

export interface RoundSelf {
  roomId: string;
  peerId: string;
  slot: number;
  publicKey: Uint8Array;
  authKey: Uint8Array;
}

export class KeyRound {
  readonly ctx: Uint8Array;
  readonly nonce = randomBytes(NONCE_BYTES);
  readonly commitment: Uint8Array;
  readonly mac: Uint8Array;
  /** We sent our reveal. */
  revealed = false;
  /** Completed on our side: admissions done, the code computed. */
  completed = false;
  private readonly others: Map<string, number>;
  private readonly commitments = new Map<string, Uint8Array>();
  private readonly reveals = new Map<string, Uint8Array>();
  /** A reveal that came before its commitment (a relay may reorder): at most one per member, checked later. */
  private readonly early = new Map<string, { publicKey: Uint8Array; nonce: Uint8Array }>();
  private readonly refused = new Set<string>();

  /** Throws if `members` is not a valid member list (see validMembers). */
  constructor(
    readonly round: number,
    readonly members: readonly RoundMember[],
    private readonly self: RoundSelf,
  ) {
    this.ctx = roundContext(self.roomId, round, members);
    this.commitment = commitTo(this.ctx, self.publicKey, this.nonce);
    this.mac = commitmentMac(self.authKey, self.roomId, self.peerId, self.slot, this.ctx, this.commitment);
    this.others = new Map(members.filter((m) => m.peerId !== self.peerId).map((m) => [m.peerId, m.slot]));
  }

  /** Same peer ids at the same slots (a new round needs a change of membership). */
  sameMembers(members: readonly RoundMember[]): boolean {
    if (members.length !== this.members.length) return false;
    return members.every((m) => this.members.some((x) => x.peerId === m.peerId && x.slot === m.slot));
  }

  slotOf(peerId: string): number | undefined {
    return this.others.get(peerId);
  }

  /** A member's MAC'd commitment. A second, different one from the same member is refused. */
  addCommitment(peerId: string, commitment: Uint8Array, mac: Uint8Array): Verdict {
    const slot = this.others.get(peerId);
    if (slot === undefined || this.refused.has(peerId)) return 'ignored';
    const held = this.commitments.get(peerId);
    if (held) return equalBytes(held, commitment) ? 'ignored' : this.refuse(peerId, 'bad-commitment');
    // Our own commitment reflected back as someone else's: it would "open" with our own reveal.
    if (equalBytes(commitment, this.commitment)) return this.refuse(peerId, 'bad-commitment');
    if (!verifyCommitmentMac(this.self.authKey, this.self.roomId, peerId, slot, this.ctx, commitment, mac)) {
      return this.refuse(peerId, 'bad-commitment');
    }
    this.commitments.set(peerId, commitment.slice());
    return 'ok';
  }

  /**
   * A member's reveal: it must open the commitment we hold from it, and its
   * key must be no other member's (ours included). A reveal before its
   * commitment is kept (the first one only) until the commitment comes:
   * see takeEarlyReveal().
   */
  addReveal(peerId: string, publicKey: Uint8Array, nonce: Uint8Array): Verdict {
    if (!this.others.has(peerId) || this.refused.has(peerId) || this.reveals.has(peerId)) return 'ignored';
    const commitment = this.commitments.get(peerId);
    if (!commitment) {
      if (!this.early.has(peerId)) this.early.set(peerId, { publicKey: publicKey.slice(), nonce: nonce.slice() });
      return 'ignored';
    }
    if (!revealMatches(commitment, this.ctx, publicKey, nonce)) return this.refuse(peerId, 'bad-reveal');
    const taken = equalBytes(publicKey, this.self.publicKey) || [...this.reveals.values()].some((r) => equalBytes(r.subarray(0, 32), publicKey));
    if (taken) return this.refuse(peerId, 'bad-reveal');
    this.reveals.set(peerId, Uint8Array.from([...publicKey, ...nonce]));
    return 'ok';
  }

  /** The reveal that came before `peerId`'s commitment, once (to pass to addReveal now). */
  takeEarlyReveal(peerId: string): { publicKey: Uint8Array; nonce: Uint8Array } | undefined {
    const r = this.early.get(peerId);
    this.early.delete(peerId);
    return r;
  }

  /** Takes a member out of this round (e.g. its key is not the one we know): it counts as refused. */
  exclude(peerId: string): void {
    if (this.others.has(peerId)) {
      this.refused.add(peerId);
      this.reveals.delete(peerId);
    }
  }

  /** Every other member committed or was refused: we may reveal. */
  readyToReveal(): boolean {
    for (const id of this.others.keys()) if (!this.commitments.has(id) && !this.refused.has(id)) return false;
    return true;
  }

  /** Every other member revealed or was refused. */
  allRevealed(): boolean {
    for (const id of this.others.keys()) if (!this.reveals.has(id) && !this.refused.has(id)) return false;
    return true;
  }

  /** Members we wait for a reveal from (neither revealed nor refused). */
  missingReveals(): string[] {
    return [...this.others.keys()].filter((id) => !this.reveals.has(id) && !this.refused.has(id));
  }

  /** The members whose reveal opened their commitment: peer id → slot and public key. */
  verified(): Map<string, { slot: number; publicKey: Uint8Array }> {
    const out = new Map<string, { slot: number; publicKey: Uint8Array }>();
    for (const [id, r] of this.reveals) out.set(id, { slot: this.others.get(id)!, publicKey: r.slice(0, 32) });
    return out;
  }

  /** The round's safety code over our contribution and every verified one (see shared/crypto/safety-code.ts). */
  code(digits?: number): string {
    const contributions: Contribution[] = [{ slot: this.self.slot, publicKey: this.self.publicKey, nonce: this.nonce }];
    for (const [id, r] of this.reveals) contributions.push({ slot: this.others.get(id)!, publicKey: r.subarray(0, 32), nonce: r.subarray(32) });
    return safetyCode(this.ctx, contributions, digits);
  }

  private refuse(peerId: string, reason: 'bad-commitment' | 'bad-reveal'): Verdict {
    this.refused.add(peerId);
    this.commitments.delete(peerId);
    this.reveals.delete(peerId);
    return reason;
  }
}
