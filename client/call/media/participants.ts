/**
 * The other people in the call, as the UI shows them: one entry per person
 * (participantId), not per connection. A person whose connection drops stays
 * on screen as "reconnecting"; one who comes back under a new peer id (a
 * reload, a rejoin after the grace period) takes its old place and is marked
 * `rejoined` for a moment, so the doctor reads "Zoé reconnected" instead of a
 * leave and a join.
 * @module
 */
import type { LeaveReason, MediaSource, PeerInfo, Role } from '../../../shared/protocol/signalling.ts';

export interface RemoteTrack {
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  track: MediaStreamTrack;
  /** The sender paused it (muted, camera off): no RTP comes, by choice. */
  paused: boolean;
  /** Video only: no frame decoded for more than 2 s although not paused (see video-health.ts). */
  stalled: boolean;
}

export interface RemoteParticipant {
  /** The connection's peer id (changes when the person rejoins). */
  peerId: string;
  participantId: string;
  displayName: string;
  role: Role;
  tracks: RemoteTrack[];
  /** Its connection dropped; the server holds its place, or it is expected back. */
  reconnecting: boolean;
  /** When it last came back (ms since epoch), to show "reconnected" for a moment. */
  reconnectedAt: number | undefined;
}

/** How long someone whose grace period ran out is still shown as reconnecting (ms). */
export const AWAY_SHOWN_MS = 30_000;

export class Participants {
  private readonly byId = new Map<string, RemoteParticipant>();
  private readonly awayTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly changed: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  list(): RemoteParticipant[] {
    return [...this.byId.values()].map((p) => ({ ...p, tracks: [...p.tracks] }));
  }

  byPeer(peerId: string): RemoteParticipant | undefined {
    for (const p of this.byId.values()) if (p.peerId === peerId) return p;
    return undefined;
  }

  /** Someone joined (or was there when we joined). Takes the place of its earlier connection. */
  joined(info: PeerInfo): void {
    const earlier = this.byId.get(info.participantId);
    this.cancelAway(info.participantId);
    const back = earlier !== undefined && earlier.peerId !== info.peerId;
    this.byId.set(info.participantId, {
      peerId: info.peerId,
      participantId: info.participantId,
      displayName: info.displayName,
      role: info.role,
      tracks: back ? [] : (earlier?.tracks ?? []),
      reconnecting: info.reconnecting ?? false,
      reconnectedAt: back ? this.now() : earlier?.reconnectedAt,
    });
    this.changed();
  }

  /**
   * Someone's connection left. 'left' (and 'removed') is final; 'timeout' and
   * 'replaced' mean the person may come back under a new peer id, so it stays
   * shown as reconnecting for a while.
   */
  left(peerId: string, reason: LeaveReason | undefined): void {
    const p = this.byPeer(peerId);
    if (!p) return;
    if (reason === 'timeout' || reason === 'replaced') {
      p.tracks = [];
      p.reconnecting = true;
      this.cancelAway(p.participantId);
      const timer = setTimeout(() => {
        this.awayTimers.delete(p.participantId);
        if (this.byId.get(p.participantId) === p && p.reconnecting) {
          this.byId.delete(p.participantId);
          this.changed();
        }
      }, AWAY_SHOWN_MS);
      this.awayTimers.set(p.participantId, timer);
    } else {
      this.byId.delete(p.participantId);
    }
    this.changed();
  }

  /** Someone's signalling dropped or came back within the grace period. */
  setReconnecting(peerId: string, reconnecting: boolean): void {
    const p = this.byPeer(peerId);
    if (!p || p.reconnecting === reconnecting) return;
    p.reconnecting = reconnecting;
    if (!reconnecting) p.reconnectedAt = this.now();
    this.changed();
  }

  addTrack(peerId: string, track: RemoteTrack): void {
    const p = this.byPeer(peerId);
    if (!p) return;
    p.tracks = [...p.tracks.filter((t) => t.source !== track.source), track];
    this.changed();
  }

  removeTrack(consumerId: string): void {
    for (const p of this.byId.values()) {
      const before = p.tracks.length;
      p.tracks = p.tracks.filter((t) => t.consumerId !== consumerId);
      if (p.tracks.length !== before) this.changed();
    }
  }

  setPaused(producerId: string, paused: boolean): void {
    for (const p of this.byId.values()) {
      const t = p.tracks.find((x) => x.producerId === producerId);
      if (t && t.paused !== paused) {
        p.tracks = p.tracks.map((x) => (x === t ? { ...t, paused } : x));
        this.changed();
      }
    }
  }

  /** Marks the video tracks whose consumer is in `stalled`, and only those. */
  setStalled(stalled: ReadonlySet<string>): void {
    let changed = false;
    for (const p of this.byId.values()) {
      if (!p.tracks.some((t) => t.stalled !== stalled.has(t.consumerId))) continue;
      p.tracks = p.tracks.map((t) => (t.stalled === stalled.has(t.consumerId) ? t : { ...t, stalled: !t.stalled }));
      changed = true;
    }
    if (changed) this.changed();
  }

  /** Drops every track (our media is being rebuilt); people stay. */
  clearTracks(): void {
    for (const p of this.byId.values()) p.tracks = [];
    this.changed();
  }

  /** Our own full rejoin: everyone present comes again in the join answer; anyone else is shown as away. */
  resetTo(peers: PeerInfo[]): void {
    const present = new Set(peers.map((p) => p.participantId));
    for (const p of this.byId.values()) {
      p.tracks = [];
      if (!present.has(p.participantId)) p.reconnecting = true;
    }
    for (const info of peers) {
      const earlier = this.byId.get(info.participantId);
      this.cancelAway(info.participantId);
      this.byId.set(info.participantId, {
        peerId: info.peerId,
        participantId: info.participantId,
        displayName: info.displayName,
        role: info.role,
        tracks: [],
        reconnecting: info.reconnecting ?? false,
        reconnectedAt: earlier?.reconnectedAt,
      });
    }
    this.changed();
  }

  clear(): void {
    for (const t of this.awayTimers.values()) clearTimeout(t);
    this.awayTimers.clear();
    this.byId.clear();
    this.changed();
  }

  private cancelAway(participantId: string): void {
    const t = this.awayTimers.get(participantId);
    if (t) clearTimeout(t);
    this.awayTimers.delete(participantId);
  }
}
