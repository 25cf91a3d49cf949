// Bounded zod schemas for the mediasoup objects that cross the signalling
// boundary. mediasoup validates them again; these bounds exist so hostile
// clients cannot feed unbounded strings, arrays or nesting into the server.
import { z } from 'zod';

const shortString = z.string().max(256);
const scalar = z.union([z.string().max(256), z.number().finite(), z.boolean()]);

export const Id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'id: letters, digits, _ and - only');

const codecParameters = z.record(z.string().max(64), scalar).refine((o) => Object.keys(o).length <= 32, 'too many codec parameters');

const rtcpFeedback = z.object({ type: z.string().max(32), parameter: z.string().max(32).optional() });

export const RtpCodecParameters = z.object({
  mimeType: z.string().max(64).regex(/^(audio|video)\/[A-Za-z0-9_.-]+$/),
  payloadType: z.number().int().min(0).max(127),
  clockRate: z.number().int().positive().max(1_000_000),
  channels: z.number().int().min(1).max(8).optional(),
  parameters: codecParameters.optional(),
  rtcpFeedback: z.array(rtcpFeedback).max(16).optional(),
});

const headerExtensionParameters = z.object({
  uri: z.string().max(256),
  id: z.number().int().min(1).max(255),
  encrypt: z.boolean().optional(),
  parameters: codecParameters.optional(),
});

const encoding = z.object({
  ssrc: z.number().int().nonnegative().max(0xffffffff).optional(),
  rid: z.string().max(32).optional(),
  codecPayloadType: z.number().int().min(0).max(127).optional(),
  rtx: z.object({ ssrc: z.number().int().nonnegative().max(0xffffffff) }).optional(),
  dtx: z.boolean().optional(),
  scalabilityMode: z.string().max(16).optional(),
  scaleResolutionDownBy: z.number().positive().max(64).optional(),
  maxBitrate: z.number().int().positive().max(100_000_000).optional(),
  maxFramerate: z.number().positive().max(240).optional(),
  active: z.boolean().optional(),
  networkPriority: z.string().max(16).optional(),
  priority: z.string().max(16).optional(),
});

export const RtpParameters = z.object({
  mid: z.string().max(32).optional(),
  codecs: z.array(RtpCodecParameters).min(1).max(16),
  headerExtensions: z.array(headerExtensionParameters).max(32).optional(),
  encodings: z.array(encoding).max(8).optional(),
  rtcp: z
    .object({ cname: z.string().max(256).optional(), reducedSize: z.boolean().optional(), mux: z.boolean().optional() })
    .optional(),
});

const rtpCodecCapability = z.object({
  kind: z.enum(['audio', 'video']),
  mimeType: z.string().max(64),
  preferredPayloadType: z.number().int().min(0).max(127).optional(),
  clockRate: z.number().int().positive().max(1_000_000),
  channels: z.number().int().min(1).max(8).optional(),
  parameters: codecParameters.optional(),
  rtcpFeedback: z.array(rtcpFeedback).max(16).optional(),
});

const rtpHeaderExtension = z.object({
  kind: z.enum(['audio', 'video']),
  uri: z.string().max(256),
  preferredId: z.number().int().min(1).max(255),
  preferredEncrypt: z.boolean().optional(),
  direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
});

export const RtpCapabilities = z.object({
  codecs: z.array(rtpCodecCapability).max(64).optional(),
  headerExtensions: z.array(rtpHeaderExtension).max(64).optional(),
});

export const DtlsParameters = z.object({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(
      z.object({
        algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']),
        value: z.string().max(256).regex(/^[0-9A-Fa-f:]+$/),
      }),
    )
    .min(1)
    .max(8),
});

// What the server sends about a transport; the client only needs to accept it.
export const IceParameters = z.object({
  usernameFragment: shortString,
  password: shortString,
  iceLite: z.boolean().optional(),
});
export const IceCandidate = z.object({
  foundation: shortString,
  priority: z.number().int().nonnegative(),
  ip: shortString,
  protocol: z.enum(['udp', 'tcp']),
  port: z.number().int().min(1).max(65535),
  type: z.literal('host'),
  tcpType: z.literal('passive').optional(),
});
