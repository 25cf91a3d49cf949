// Encrypted chat and file transfer over signalling. The server relays chunks
// to the other participants of the room and never sees inside `box`.
import { z } from 'zod';
import { Id } from './mediasoup-schemas.ts';

export const CHAT_CHUNK_BYTES = 64 * 1024;
export const CHAT_MAX_FILE_BYTES = 20 * 1024 * 1024;
/** Chunk 0 carries the message's metadata (or text), then file data. */
export const CHAT_MAX_CHUNKS = Math.ceil(CHAT_MAX_FILE_BYTES / CHAT_CHUNK_BYTES) + 1;
/** A sealed chunk: 24-byte nonce + data + 16-byte tag, with room to spare. */
export const CHAT_MAX_BOX_BYTES = CHAT_CHUNK_BYTES + 1024;

/** Binary on the wire: Buffer in Node, ArrayBuffer or Uint8Array in browsers. */
export const Binary = z
  .union([z.instanceof(Uint8Array), z.instanceof(ArrayBuffer)])
  .transform((b) => (b instanceof Uint8Array ? b : new Uint8Array(b)))
  .refine((b) => b.length > 0 && b.length <= CHAT_MAX_BOX_BYTES, 'box size');

const chunkFields = {
  kid: z.number().int().min(0).max(255),
  id: z.string().regex(/^[0-9a-f]{32}$/),
  index: z.number().int().min(0).max(CHAT_MAX_CHUNKS - 1),
  total: z.number().int().min(1).max(CHAT_MAX_CHUNKS),
  box: Binary,
};

export const chatRequests = {
  chatChunk: {
    req: z.object(chunkFields).strict().refine((c) => c.index < c.total, 'index beyond total'),
    res: z.object({}).strict(),
  },
} as const;

export const chatNotifications = {
  chatChunk: z.object({ from: Id, ...chunkFields }).refine((c) => c.index < c.total, 'index beyond total'),
} as const;
