// The requests of a joined participant that its room answers alone — media
// (transports, producers, consumers, ICE), key rounds and the chat relay —
// separate from the membership requests PeerSession handles itself (enter,
// admit, join, leave, end, resume, the connection check).
import type { RequestName, RequestOf, ResponseOf } from '../../shared/protocol/signalling.ts';
import type { Room } from '../rooms/room.ts';

type RoomRequest = 'createTransport' | 'connectTransport' | 'produce' | 'closeProducer' | 'consume' | 'resumeConsumer' | 'requestKeyFrame' | 'keyCommit' | 'keyReveal' | 'sendKey' | 'chatChunk' | 'restartIce' | 'rejoinMedia' | 'pauseProducer';
type Handlers = { [N in RoomRequest & RequestName]: (req: RequestOf<N>) => Promise<ResponseOf<N>> | ResponseOf<N> };

/**
 * Handlers for `peerId`'s room requests. `room()` is the participant's room,
 * or throws SignallingError 'not-joined' (PeerSession.joined); the room's own
 * errors ('not-found', 'bad-request', …) pass through.
 */
export function roomRequests(room: () => Room, peerId: string): Handlers {
  return {
    createTransport: (req) => room().media.createTransport(peerId, req),
    connectTransport: async (req) => {
      await room().media.connectTransport(peerId, req);
      return {};
    },
    produce: (req) => room().media.produce(peerId, req),
    closeProducer: (req) => {
      room().media.closeProducer(peerId, req);
      return {};
    },
    consume: (req) => room().media.consume(peerId, req),
    resumeConsumer: async (req) => {
      await room().media.resumeConsumer(peerId, req);
      return {};
    },
    requestKeyFrame: async (req) => {
      await room().media.requestKeyFrame(peerId, req);
      return {};
    },
    keyCommit: (req) => {
      room().keyCommit(peerId, req);
      return {};
    },
    keyReveal: (req) => {
      room().keyReveal(peerId, req);
      return {};
    },
    sendKey: (req) => {
      room().sendKey(peerId, req);
      return {};
    },
    chatChunk: (req) => {
      const behind = room().relayChat(peerId, req);
      return behind.length > 0 ? { behind } : {};
    },
    restartIce: (req) => room().media.restartIce(peerId, req),
    rejoinMedia: () => room().media.rejoinMedia(peerId),
    pauseProducer: async (req) => {
      await room().media.pauseProducer(peerId, req);
      return {};
    },
  };
}
