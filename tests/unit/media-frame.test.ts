import { describe, expect, it } from 'vitest';
import { SFrameSender } from '../../shared/crypto/sframe-sender.ts';
import { SFrameReceiver } from '../../shared/crypto/sframe-receiver.ts';
import { decodeHeader, deriveKeyAndSalt, encryptWithKey } from '../../shared/crypto/sframe.ts';
import { CLEAR_PREFIX, protectFrame, sframeOf, unprotectFrame } from '../../shared/crypto/media-frame.ts';
import { SUITE } from '../../shared/crypto/media-suite.ts';

const KEY = new Uint8Array(32).map((_, i) => i * 7);
const KID = 0x21n;

async function pair() {
  const sender = new SFrameSender(SUITE);
  await sender.setKey(KID, KEY);
  const receiver = new SFrameReceiver(SUITE);
  await receiver.addKey(KID, KEY);
  return { sender, receiver };
}

const vp8Delta = () => new Uint8Array(600).map((_, i) => (i === 0 ? 0x31 : (i * 13) & 0xff));

describe('media frame layout', () => {
  it('keeps exactly the first VP8 byte clear and puts an SFrame header right after it', async () => {
    const { sender } = await pair();
    const frame = vp8Delta();
    const out = await protectFrame(sender, 'video', frame);
    expect(CLEAR_PREFIX.video).toBe(1);
    expect(out[0]).toBe(frame[0]);
    const h = decodeHeader(out.subarray(1));
    expect(h.kid).toBe(KID);
    expect(h.ctr).toBe(0n);
    expect(out.length).toBe(frame.length + h.length + 16);
    // The body is not in the clear.
    expect(Buffer.from(out).includes(Buffer.from(frame.subarray(1, 33)))).toBe(false);
  });

  it('encrypts Opus frames whole', async () => {
    const { sender, receiver } = await pair();
    const opus = new Uint8Array(90).fill(0x78);
    const out = await protectFrame(sender, 'audio', opus);
    const h = decodeHeader(out); // the SFrame header starts at byte 0: nothing is clear
    expect(h.kid).toBe(KID);
    expect(out.length).toBe(opus.length + h.length + 16);
    expect((await unprotectFrame(receiver, 'audio', out)).frame).toEqual(opus);
  });

  it('is byte for byte the clear prefix followed by the RFC 9605 reference SFrame (noble), for video and audio', async () => {
    // protectFrame writes prefix, header and ciphertext in one buffer (sealFrame's lead): same bytes as framing afterwards.
    const { sender } = await pair();
    const k = deriveKeyAndSalt(SUITE, KEY, KID);
    const video = vp8Delta();
    const opus = new Uint8Array(90).map((_, i) => i);
    const v = await protectFrame(sender, 'video', video);
    const a = await protectFrame(sender, 'audio', opus);
    expect(v).toEqual(new Uint8Array([video[0]!, ...encryptWithKey(SUITE, k, KID, 0n, video.subarray(0, 1), video.subarray(1))]));
    expect(a).toEqual(encryptWithKey(SUITE, k, KID, 1n, new Uint8Array(0), opus));
    expect(v.byteOffset === 0 && v.byteLength === v.buffer.byteLength).toBe(true); // the Worker hands it on without a copy
  });

  it('round-trips video frames', async () => {
    const { sender, receiver } = await pair();
    const frame = vp8Delta();
    const back = await unprotectFrame(receiver, 'video', await protectFrame(sender, 'video', frame));
    expect(back.frame).toEqual(frame);
    expect(back.kid).toBe(KID);
  });

  it('rejects a tampered byte in the prefix, header, body or tag', async () => {
    const { sender, receiver } = await pair();
    const out = await protectFrame(sender, 'video', vp8Delta());
    const headerLen = decodeHeader(out.subarray(1)).length;
    const places = { prefix: 0, header: 1 + headerLen - 1, body: 1 + headerLen + 10, tag: out.length - 1 };
    for (const [where, i] of Object.entries(places)) {
      const bad = out.slice();
      bad[i] = bad[i]! ^ (where === 'prefix' ? 0x01 : 0x40); // prefix: flip the keyframe (P) bit
      await expect(unprotectFrame(receiver, 'video', bad), where).rejects.toThrow();
    }
    // The untouched frame still authenticates (the rejections were not replays).
    await expect(unprotectFrame(receiver, 'video', out)).resolves.toBeDefined();
  });

  it('rejects a frame under another key, and a replayed frame', async () => {
    const { sender, receiver } = await pair();
    const other = new SFrameSender(SUITE);
    await other.setKey(KID, new Uint8Array(32).fill(9));
    await expect(unprotectFrame(receiver, 'video', await protectFrame(other, 'video', vp8Delta()))).rejects.toThrow(/auth/);
    const out = await protectFrame(sender, 'video', vp8Delta());
    await unprotectFrame(receiver, 'video', out);
    await expect(unprotectFrame(receiver, 'video', out)).rejects.toThrow(/replay/);
  });

  it('refuses frames with no room for the layout', async () => {
    const { sender } = await pair();
    await expect(protectFrame(sender, 'video', new Uint8Array(0))).rejects.toThrow(/malformed/);
    expect(() => sframeOf('video', new Uint8Array([0x30]))).toThrow(/malformed/);
    expect(() => sframeOf('audio', new Uint8Array(0))).toThrow(/malformed/);
  });

  it('sends nothing without a key', async () => {
    const sender = new SFrameSender(SUITE);
    await expect(protectFrame(sender, 'video', vp8Delta())).rejects.toThrow(/no-key/);
  });
});
