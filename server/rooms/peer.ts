import type { types } from '../sfu/mediasoup.ts';
import type { IceServer, MediaSource, NotificationName, NotificationOf, PeerInfo, Role } from '../../shared/protocol/signalling.ts';

export type Notify = <N extends NotificationName>(name: N, data: NotificationOf<N>) => void;

/** One participant's SFU state inside a room. The Room is its only owner. */
export class Peer {
  readonly transports = new Map<string, types.WebRtcTransport>();
  readonly producers = new Map<string, { producer: types.Producer; source: MediaSource }>();
  readonly consumers = new Map<string, types.Consumer>();

  /** Its signalling connection dropped; its place is held for the grace period. */
  reconnecting = false;

  /**
   * Its TURN credential, reused for every transport and ICE restart until
   * `renewAt` (ms since the epoch): coturn's per-username quota then bounds
   * the relay ports one participant can hold (room.ts, relays()).
   */
  relay: { iceServers: IceServer[]; renewAt: number } | undefined;

  constructor(
    readonly id: string,
    /** The same person across rejoins (see PeerInfo). */
    readonly participantId: string,
    readonly displayName: string,
    readonly role: Role,
    readonly slot: number,
    readonly notify: Notify,
    /** Whether its connection is keeping up: the chat relay skips one that is far behind (issue 12, item 7). */
    readonly canTakeChat: () => boolean = () => true,
  ) {}

  info(): PeerInfo {
    return {
      peerId: this.id,
      participantId: this.participantId,
      displayName: this.displayName,
      role: this.role,
      slot: this.slot,
      ...(this.reconnecting ? { reconnecting: true } : {}),
    };
  }

  /** Closes its transports (and so its producers and consumers), keeping the participant. */
  closeMedia(): void {
    // Closing a transport closes its producers and consumers too.
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}
