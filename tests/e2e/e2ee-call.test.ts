// End-to-end encrypted 1:1 call in real Chromium pages through our mediasoup
// SFU, and a tap on the SFU proving it only ever relays ciphertext. The frame
// layer is tested alone here: keys come from the test ('manual' hooks), not
// from key agreement (tests/e2e/key-agreement.test.ts).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/browser.ts';
import { callTestEnv } from './support/call-env.ts';
import { addRemoteKey, e2eeStats, inbound, remoteVideoVariation, setLocalKey } from './support/call.ts';
import { TestConsultation } from './support/consultation.ts';
import { tapProducer } from '../support/sfu-tap.ts';
import { reassembleVp8 } from '../support/rtp.ts';
import { writeIvf } from '../support/ivf.ts';
import { decodeIvf } from '../support/ffmpeg.ts';
import { decodeHeader } from '../../shared/crypto/sframe.ts';
import { SFrameReceiver } from '../../shared/crypto/sframe-receiver.ts';
import { sframeOf, unprotectFrame } from '../../shared/crypto/media-frame.ts';
import { SUITE } from '../../shared/crypto/media-suite.ts';

const env = callTestEnv('manual');
const person = env.person;

describe('E2EE media', () => {
  it('fails closed: without keys nothing is sent, and the page says so', async () => {
    const a = await person('Alice');
    const b = await person('Bob');
    const c = await TestConsultation.create(env.server);
    await c.joinAsDoctor(a.page);
    await c.joinAsPatient(b.page, b.name);
    await a.page.getByTestId('e2ee-waiting').waitFor();
    const stats = await waitFor('frames to be dropped', () => e2eeStats(a.page), (s) => s.sender.droppedNoKey > 30);
    expect(stats.sender.encrypted).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    const room = await env.server.rooms.get(c.id);
    const sfu = await room!.stats();
    expect(sfu.producers.length).toBe(4);
    for (const p of sfu.producers) expect(p.bytes, `${p.kind} producer bytes`).toBe(0);
    const seen = await inbound(b.page);
    expect(seen.reduce((n, s) => n + s.framesDecoded, 0)).toBe(0);
    await a.context.close();
    await b.context.close();
  });

  it('calls with every frame encrypted; the SFU relays only ciphertext', async () => {
    const a = await person('Alice');
    const b = await person('Bob');
    const c = await TestConsultation.create(env.server);
    const aId = await c.joinAsDoctor(a.page);
    const bId = await c.joinAsPatient(b.page, b.name);
    const keyA = new Uint8Array(randomBytes(32));
    const keyB = new Uint8Array(randomBytes(32));
    const kidA = 17;
    const kidB = 34;
    await addRemoteKey(b.page, aId, kidA, keyA);
    await addRemoteKey(a.page, bId, kidB, keyB);

    // Tap Alice's producers before she has a key: the capture then starts at
    // her very first encrypted frame.
    const room = (await env.server.rooms.get(c.id))!;
    const alice = room.media.producerInfos().filter((p) => p.peerId === aId);
    const videoTap = await tapProducer(room.router, alice.find((p) => p.kind === 'video')!.producerId);
    const audioTap = await tapProducer(room.router, alice.find((p) => p.kind === 'audio')!.producerId);

    await setLocalKey(a.page, kidA, keyA);
    await setLocalKey(b.page, kidB, keyB);

    for (const [who, page] of [['alice', a.page], ['bob', b.page]] as const) {
      const s = await waitFor(
        `${who} to decode 60 frames and receive audio`,
        () => inbound(page),
        (s) => s.some((x) => x.kind === 'video' && x.framesDecoded >= 60) && s.some((x) => x.kind === 'audio' && x.packetsReceived > 50),
        45_000,
      );
      expect(s.find((x) => x.kind === 'video')!.framesDecoded).toBeGreaterThanOrEqual(60);
      // A flat (black, grey) picture scores ~0; the fake camera scene scores well above 2.
      expect(await remoteVideoVariation(page), `${who} sees a real picture`).toBeGreaterThan(2);
    }
    await new Promise((r) => setTimeout(r, 3000)); // ≥ 3 s of capture
    videoTap.stop();
    audioTap.stop();

    const sa = await e2eeStats(a.page);
    const sb = await e2eeStats(b.page);
    expect(sa.sender.encrypted).toBeGreaterThan(100);
    expect(sb.receivers[aId]!.decrypted).toBeGreaterThan(100);
    expect(sa.receivers[bId]!.decrypted).toBeGreaterThan(100);
    for (const r of [sb.receivers[aId]!, sa.receivers[bId]!]) {
      expect(r.failedAuth + r.malformed + r.wrongSender + r.replayed).toBe(0);
    }

    const sfu = await room.stats();
    for (const s of [...sfu.producers, ...sfu.consumers]) expect(s.bytes, `${s.kind} ${s.id}`).toBeGreaterThan(0);

    // Video: every forwarded frame is prefix || SFrame under Alice's KID.
    const frames = reassembleVp8(videoTap.packets).map((f) => f.data);
    expect(frames.length).toBeGreaterThanOrEqual(60);
    for (const f of frames) expect(decodeHeader(sframeOf('video', f).sframe).kid).toBe(BigInt(kidA));
    const asCaptured = decodeIvf(writeIvf(frames, 640, 480));
    expect(asCaptured.frameSizes.filter((s) => s === '640x480')).toHaveLength(0);

    const receiver = new SFrameReceiver(SUITE);
    await receiver.addKey(BigInt(kidA), keyA);
    const clear = [];
    for (const f of frames) clear.push((await unprotectFrame(receiver, 'video', f)).frame);
    const decrypted = decodeIvf(writeIvf(clear, 640, 480));
    expect(decrypted.frameSizes.length).toBeGreaterThanOrEqual(frames.length - 2);
    expect(new Set(decrypted.frameSizes)).toEqual(new Set(['640x480']));

    // Audio: every Opus packet is a whole SFrame that authenticates under Alice's key.
    expect(audioTap.packets.length).toBeGreaterThan(100);
    for (const p of audioTap.packets) {
      expect(decodeHeader(p.payload).kid).toBe(BigInt(kidA));
      const { frame } = await unprotectFrame(receiver, 'audio', p.payload);
      expect(frame.length).toBeGreaterThan(0);
    }

    // Leave: the other side drops the tile and the SFU drops the consumers.
    const tiles = a.page.locator('[data-testid^="remote-tile-"]');
    await expect.poll(() => tiles.count()).toBe(1);
    await b.page.getByRole('button', { name: 'Leave' }).click();
    await expect.poll(() => tiles.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(async () => (await room.stats()).consumers.length, { timeout: 10_000 }).toBe(0);
    await a.context.close();
    await b.context.close();
  });

  it('falls back to createEncodedStreams where RTCRtpScriptTransform is missing', async () => {
    const a = await person('Alice');
    const b = await person('Bob');
    for (const p of [a, b]) {
      await p.context.addInitScript(() => {
        delete (window as { RTCRtpScriptTransform?: unknown }).RTCRtpScriptTransform;
      });
    }
    const c = await TestConsultation.create(env.server);
    const aId = await c.joinAsDoctor(a.page);
    const bId = await c.joinAsPatient(b.page, b.name);
    expect(await a.page.evaluate(() => typeof (window as { RTCRtpScriptTransform?: unknown }).RTCRtpScriptTransform)).toBe(
      'undefined',
    );
    const keyA = new Uint8Array(randomBytes(32));
    const keyB = new Uint8Array(randomBytes(32));
    await addRemoteKey(b.page, aId, 3, keyA);
    await addRemoteKey(a.page, bId, 4, keyB);
    await setLocalKey(a.page, 3, keyA);
    await setLocalKey(b.page, 4, keyB);
    await waitFor(
      'both sides to decode video',
      async () => [await inbound(a.page), await inbound(b.page)],
      (all) => all.every((s) => s.some((x) => x.kind === 'video' && x.framesDecoded >= 30)),
      45_000,
    );
    const sb = await e2eeStats(b.page);
    expect(sb.receivers[aId]!.decrypted).toBeGreaterThan(30);
    expect(sb.receivers[aId]!.failedAuth).toBe(0);
    await a.context.close();
    await b.context.close();
  });
});
