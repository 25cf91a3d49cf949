// Browser support: which frame-encryption API a page has decides whether it
// may call at all (client/e2ee/support.ts). Fake globals stand for browsers.
import { describe, expect, it } from 'vitest';
import { frameEncryptionApi } from '../../client/e2ee/support.ts';

class Endpoint {}
function browser(opts: { scriptTransform?: boolean; encodedStreams?: boolean; subtle?: boolean; webrtc?: boolean; worker?: boolean }) {
  const sender = class extends Endpoint {};
  const receiver = class extends Endpoint {};
  if (opts.encodedStreams) {
    for (const c of [sender, receiver]) Object.assign(c.prototype, { createEncodedStreams() {} });
  }
  return {
    ...(opts.webrtc === false ? {} : { RTCPeerConnection: class {}, RTCRtpSender: sender, RTCRtpReceiver: receiver }),
    ...(opts.worker === false ? {} : { Worker: class {} }),
    ...(opts.scriptTransform ? { RTCRtpScriptTransform: class {} } : {}),
    crypto: opts.subtle === false ? {} : { subtle: {} },
  } as unknown as typeof globalThis;
}

describe('frameEncryptionApi', () => {
  it('prefers the standard RTCRtpScriptTransform (Firefox, Safari, recent Chromium)', () => {
    expect(frameEncryptionApi(browser({ scriptTransform: true }))).toBe('script-transform');
    expect(frameEncryptionApi(browser({ scriptTransform: true, encodedStreams: true }))).toBe('script-transform');
  });

  it("falls back to Chromium's createEncodedStreams", () => {
    expect(frameEncryptionApi(browser({ encodedStreams: true }))).toBe('encoded-streams');
  });

  it('refuses a browser with neither, or without WebRTC, a Worker or WebCrypto', () => {
    expect(frameEncryptionApi(browser({}))).toBeUndefined();
    expect(frameEncryptionApi(browser({ scriptTransform: true, subtle: false }))).toBeUndefined();
    expect(frameEncryptionApi(browser({ scriptTransform: true, webrtc: false }))).toBeUndefined();
    expect(frameEncryptionApi(browser({ encodedStreams: true, worker: false }))).toBeUndefined();
  });
});
