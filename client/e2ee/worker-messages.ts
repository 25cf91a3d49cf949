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
}

export type ToWorker =
  | { type: 'setSenderKey'; kid: bigint; key: Uint8Array }
  | { type: 'clearSenderKey' }
  | { type: 'addReceiverKey'; peerId: string; kid: bigint; key: Uint8Array }
  | { type: 'removeReceiverKey'; kid: bigint }
  | { type: 'attachStreams'; options: StreamOptions; readable: ReadableStream; writable: WritableStream }
  | { type: 'stats'; id: number };

export type FromWorker =
  | { type: 'stats'; id: number; stats: E2eeStats }
  | { type: 'keyApplied'; kid: bigint; error?: string }
  /** First frame from `peerId` decrypted under `kid`: the sender switched keys. */
  | { type: 'kidSeen'; peerId: string; kid: bigint }
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
}

export interface E2eeStats {
  sender: SenderStats;
  receivers: Record<string, ReceiverStats>;
}
