// The seam between the call (mediasoup-client) and end-to-end encryption:
// the call hands every RTCRtpSender/RTCRtpReceiver to a FrameTransformer
// before media flows. client/e2ee implements it.
import type { MediaSource } from '../../shared/protocol/signalling.ts';

export interface SenderInfo {
  kind: 'audio' | 'video';
  source: MediaSource;
}

export interface ReceiverInfo extends SenderInfo {
  peerId: string;
}

export interface FrameTransformer {
  /** Extra RTCPeerConnection settings both transports need (e.g. encodedInsertableStreams). */
  readonly peerConnectionSettings: Record<string, unknown> | undefined;
  attachSender(sender: RTCRtpSender, info: SenderInfo): void;
  attachReceiver(receiver: RTCRtpReceiver, info: ReceiverInfo): void;
}
