// A tap on the SFU: a DirectTransport consumer of a producer, recording every
// RTP packet mediasoup forwards — exactly what any consumer would receive.
import type { types } from '../../server/sfu/mediasoup.ts';
import { parseRtp, type RtpPacket } from './rtp.ts';

export interface Tap {
  packets: RtpPacket[];
  payloadType: number;
  stop(): void;
}

export async function tapProducer(router: types.Router, producerId: string): Promise<Tap> {
  const transport = await router.createDirectTransport();
  const consumer = await transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities });
  const payloadType = consumer.rtpParameters.codecs[0]!.payloadType;
  const packets: RtpPacket[] = [];
  consumer.on('rtp', (buf: Buffer) => {
    const p = parseRtp(new Uint8Array(buf));
    if (p.payloadType === payloadType) packets.push({ ...p, at: Date.now() });
  });
  if (consumer.kind === 'video') await consumer.requestKeyFrame();
  return { packets, payloadType, stop: () => transport.close() };
}
