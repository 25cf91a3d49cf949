// Messages between the page (E2eeManager) and the frame Worker. Keys cross
// this boundary only inside the page's own process; never the network.
import type { FrameKind } from '../../shared/crypto/media-frame.ts';

export type StreamRole = 'send' | 'recv';

/** Options given to each RTCRtpScriptTransform (or with transferred streams). */
export interface StreamOptions {
  role: StreamRole;
  kind: FrameKind;
  /** For receivers: the participant the SFU says this stream comes from. */
  peerId?: string;
  /**
   * Bench build only (`__CONFIDE_BENCH__`): pass frames through unchanged, no
   * crypto, the pass-through baseline of `npm run bench`. The production
   * Worker has no code that reads it (tests/integration/production-build.test.ts).
   */
  benchPassThrough?: true;
}

export type ToWorker =
  /** `id`: echoed in a `done` reply once the key is in use (or refused). */
  | { type: 'setSenderKey'; id: number; kid: bigint; key: Uint8Array; keyFrame: boolean }
  | { type: 'addReceiverKey'; id: number; peerId: string; kid: bigint; key: Uint8Array }
  | { type: 'removeReceiverKey'; kid: bigint }
  | { type: 'attachStreams'; options: StreamOptions; readable: ReadableStream; writable: WritableStream }
  | { type: 'stats'; id: number };

export type FromWorker =
  | { type: 'stats'; id: number; stats: E2eeStats }
  | { type: 'done'; id: number; error?: string }
  /** First frame from `peerId` decrypted under `kid`: the sender switched keys. */
  | { type: 'kidSeen'; peerId: string; kid: bigint }
  /** Frames from `peerId` decrypt again after some were dropped: its video needs a keyframe. */
  | { type: 'recovered'; peerId: string }
  /** The local frame counter nears two bytes: time to ratchet. */
  | { type: 'counterHigh'; kid: bigint }
  | { type: 'error'; message: string };

export interface SenderStats {
  /** KID of the key in use, undefined while there is none (nothing is sent). */
  kid: bigint | undefined;
  encrypted: number;
  keyFramesEncrypted: number;
  droppedNoKey: number;
  failed: number;
}

export interface ReceiverStats {
  decrypted: number;
  droppedNoKey: number;
  failedAuth: number;
  replayed: number;
  malformed: number;
  /** Authentic frames whose key belongs to another participant than the stream claims. */
  wrongSender: number;
  /** KID of the last frame decrypted. */
  lastKid: bigint | undefined;
  /** Frames dropped since the last one that decrypted. */
  droppedSinceOk: number;
}

/** A receiver's counters before its first frame. */
export function emptyReceiverStats(): ReceiverStats {
  return { decrypted: 0, droppedNoKey: 0, failedAuth: 0, replayed: 0, malformed: 0, wrongSender: 0, lastKid: undefined, droppedSinceOk: 0 };
}

export interface E2eeStats {
  sender: SenderStats;
  receivers: Record<string, ReceiverStats>;
}
