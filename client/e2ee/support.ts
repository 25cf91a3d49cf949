// Which way this browser lets us encrypt media frames, if any. The one
// definition used both to tell an unsupported browser up front (before the
// device check) and to attach the frame Worker (E2eeManager).

/**
 * - 'script-transform': the standard RTCRtpScriptTransform (Firefox,
 *   Safari ≥ 15.4, recent Chromium);
 * - 'encoded-streams': Chromium's RTCRtpSender/Receiver.createEncodedStreams;
 * - undefined: neither, or no WebRTC, Worker or WebCrypto at all: this
 *   browser cannot make an end-to-end encrypted call and must not try.
 */
export type FrameEncryptionApi = 'script-transform' | 'encoded-streams';

/**
 * The frame-encryption API this page can use, or undefined. Pure feature
 * detection (no user-agent sniffing): a browser that gains an API works the
 * day it ships. Throws nothing. Sources: W3C WebRTC Encoded Transform
 * (RTCRtpScriptTransform), Chromium's Insertable Streams explainer
 * (createEncodedStreams).
 */
export function frameEncryptionApi(scope: typeof globalThis = globalThis): FrameEncryptionApi | undefined {
  const g = scope as unknown as Record<string, unknown>;
  if (typeof g.RTCPeerConnection !== 'function' || typeof g.Worker !== 'function') return undefined;
  const subtle = (g.crypto as Crypto | undefined)?.subtle;
  if (!subtle) return undefined; // WebCrypto needs a secure context (HTTPS or localhost)
  if (typeof g.RTCRtpScriptTransform === 'function') return 'script-transform';
  const sender = g.RTCRtpSender as { prototype?: object } | undefined;
  const receiver = g.RTCRtpReceiver as { prototype?: object } | undefined;
  if (sender?.prototype && receiver?.prototype && 'createEncodedStreams' in sender.prototype && 'createEncodedStreams' in receiver.prototype) {
    return 'encoded-streams';
  }
  return undefined;
}
