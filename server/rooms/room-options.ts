// The settings a room's media is made with, and the per-room limits.
import type { MediaListen } from '../sfu/media-listen.ts';
import { MAX_SLOTS } from '../../shared/crypto/key-schedule.ts';
import type { IceServer } from '../../shared/protocol/signalling.ts';

export interface RtcOptions {
  /** Where transports listen: the worker's WebRtcServer, or ports of their own. */
  listen: MediaListen;
  /**
   * Fresh TURN relays with a short-lived credential, for each transport a
   * participant opens or restarts (none: no relay); `ttlMs` overrides the
   * configured lifetime (connection checks get minutes).
   */
  iceServers?: (ttlMs?: number) => IceServer[];
  /** A producer is asked for a keyframe at most once per this (ms), however many consumers ask (default 500). */
  keyFrameEveryMs?: number;
}

export const LIMITS = {
  peersPerRoom: MAX_SLOTS, // one KID slot each
  transportsPerPeer: 2,
  producersPerPeer: 3, // mic, camera, screen
  consumersPerPeer: 64,
};
