// A room's key rounds, as the relay keeps them (docs/protocol.md, Key
// rounds): every change of membership starts the next round; within it, each
// member may send one commitment and then, once every member committed, one
// reveal. The server cannot check either (they are made under the room
// secret it never sees); it only keeps the order and the limits, so that a
// participant cannot flood the others or change its contribution. Only the
// current round is kept: at most 16 commitments and 16 reveals.
import { SignallingError } from '../signalling/errors.ts';
import type { KeyRoundInfo, RequestOf } from '../../shared/protocol/signalling.ts';

type Commit = RequestOf<'keyCommit'>;
type Reveal = RequestOf<'keyReveal'>;

export class KeyRounds {
  private current: KeyRoundInfo | undefined;
  private readonly commits = new Map<string, Commit>();
  private readonly reveals = new Map<string, Reveal>();

  /** The round under way, if any. */
  get info(): KeyRoundInfo | undefined {
    return this.current;
  }

  /** Starts the next round for `members` (peer id and slot of everyone in the room). */
  next(members: KeyRoundInfo['members']): KeyRoundInfo {
    const round = (this.current?.round ?? 0) + 1;
    this.current = { round, members: members.map((m) => ({ peerId: m.peerId, slot: m.slot })) };
    this.commits.clear();
    this.reveals.clear();
    return this.current;
  }

  /**
   * `peerId`'s commitment. True: relay it. False: the very same one again
   * (a re-send after a resume; it was relayed the first time). Throws
   * `not-found` for another round, `forbidden` for a second, different one.
   */
  commit(peerId: string, req: Commit): boolean {
    this.member(peerId, req.round);
    const held = this.commits.get(peerId);
    if (held) {
      if (held.commitment === req.commitment && held.mac === req.mac) return false;
      throw new SignallingError('forbidden', 'already committed in this key round');
    }
    this.commits.set(peerId, { ...req });
    return true;
  }

  /**
   * `peerId`'s reveal: only after its own commitment and everyone's. True:
   * relay it; false: the same one again. Throws like commit().
   */
  reveal(peerId: string, req: Reveal): boolean {
    const info = this.member(peerId, req.round);
    if (!this.commits.has(peerId)) throw new SignallingError('forbidden', 'reveal before commitment');
    if (info.members.some((m) => !this.commits.has(m.peerId))) {
      throw new SignallingError('forbidden', 'reveal before every member committed');
    }
    const held = this.reveals.get(peerId);
    if (held) {
      if (held.publicKey === req.publicKey && held.nonce === req.nonce) return false;
      throw new SignallingError('forbidden', 'already revealed in this key round');
    }
    this.reveals.set(peerId, { ...req });
    return true;
  }

  private member(peerId: string, round: number): KeyRoundInfo {
    const info = this.current;
    if (!info || info.round !== round) throw new SignallingError('not-found', 'not the current key round');
    if (!info.members.some((m) => m.peerId === peerId)) throw new SignallingError('forbidden', 'not a member of this key round');
    return info;
  }
}
