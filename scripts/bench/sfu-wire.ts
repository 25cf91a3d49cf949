/**
 * What the SFU capacity bench's processes tell each other (sfu-cluster.ts,
 * sfu-node.ts, sfu-generator.ts): payload types, SSRCs, the wiring of a
 * consultation and the SFU's counters. Types and constants only, so that
 * importing it starts nothing.
 */

export const AUDIO_PT = 100;
export const VIDEO_PT = 101;
export interface Ssrcs {
  audio: number;
  video: number;
}

/** What a participant sends to (its send transport's port) and which SSRCs it receives on its receive port. */
export interface ParticipantWiring {
  sendPort: number;
  produce: Ssrcs;
  consume: Ssrcs;
}
export interface AddedConsultation {
  participants: [ParticipantWiring, ParticipantWiring];
}

/** Cumulative packet counts since the node started, summed over its producers and consumers (mediasoup getStats). */
export interface NodeCounters {
  /** Packets the producers received, and the sequence gaps mediasoup counted (updated at each RTCP report). */
  producerPackets: number;
  producerLost: number;
  /** Packets the consumers sent. */
  consumerPackets: number;
  consumers: number;
}
