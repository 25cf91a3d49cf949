import type { types } from 'mediasoup';

// Opus for audio and VP8 for video: what every browser decodes and what the
// E2EE frame layout (docs/protocol.md) is specified for.
export const mediaCodecs: types.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    parameters: { 'x-google-start-bitrate': 1000 },
  },
];
