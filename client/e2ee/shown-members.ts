/**
 * The remote peers this page shows, one per person, exactly as the call
 * screen draws them (client/call/media/participants.ts keys its tiles by
 * participantId, and a later connection of a person takes the earlier one's
 * place). A key round may hold only these peers besides us: the safety code
 * covers the round's members, but people compare the faces and names on
 * screen, so a connection without a tile of its own must not get keys.
 *
 * A relay could otherwise hide a member behind a real person's participantId
 * (two peers, one tile), or give it ours. So: a second peer for a shown
 * person displaces the first (the server always sends peerLeft before a
 * person's new connection joins, so honest calls never do this), and a peer
 * carrying our own participantId is never shown.
 */
export interface ShownPeer {
  peerId: string;
  participantId: string;
}

export class ShownMembers {
  private readonly byParticipant = new Map<string, string>();
  private self: string | undefined;

  /** Our join answer: who we are and who was there, in the answer's order (the screen's). */
  reset(selfParticipantId: string, peers: readonly ShownPeer[]): void {
    this.byParticipant.clear();
    this.self = selfParticipantId;
    for (const p of peers) this.joined(p);
  }

  /**
   * A peerJoined. Returns the peer id it displaced (no longer shown: it must
   * lose its keys, and the page warns), or undefined in an honest call.
   */
  joined(p: ShownPeer): string | undefined {
    if (p.participantId === this.self) return p.peerId;
    const earlier = this.byParticipant.get(p.participantId);
    this.byParticipant.set(p.participantId, p.peerId);
    return earlier !== undefined && earlier !== p.peerId ? earlier : undefined;
  }

  /** A peerLeft. */
  left(peerId: string): void {
    for (const [participant, peer] of this.byParticipant) if (peer === peerId) this.byParticipant.delete(participant);
  }

  /** Whether `peerId` has a tile of its own on this page. */
  has(peerId: string): boolean {
    for (const peer of this.byParticipant.values()) if (peer === peerId) return true;
    return false;
  }
}
