// Encrypted chat and file transfer over signalling. The server relays chunks
// to the other participants of the room and never sees inside `box`.
//
// Two layers, one definition each, shared by sender and receiver:
// - the relayed chunk (`chatChunk` request and notification), which the
//   server validates too;
// - chunk 0's plaintext, the message metadata (`ChatMeta`), which only the
//   participants see once the box opens (docs/protocol.md "Chat and files").
import { z } from 'zod';
import { Id } from './mediasoup-schemas.ts';

export const CHAT_CHUNK_BYTES = 64 * 1024;
export const CHAT_MAX_FILE_BYTES = 20 * 1024 * 1024;
/** Chunk 0 carries the message's metadata (or text), then file data. */
export const CHAT_MAX_CHUNKS = Math.ceil(CHAT_MAX_FILE_BYTES / CHAT_CHUNK_BYTES) + 1;
/** A sealed chunk: 24-byte nonce + data + 16-byte tag, with room to spare. */
export const CHAT_MAX_BOX_BYTES = CHAT_CHUNK_BYTES + 1024;
/** Characters of a text message. */
export const CHAT_MAX_TEXT = 4000;
/** The file types the chat carries; anything else is refused on both ends. */
export const CHAT_MIME_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ChatMime = (typeof CHAT_MIME_TYPES)[number];

/** A message id: 16 random bytes, lower-case hex. */
export const ChatMessageId = z.string().regex(/^[0-9a-f]{32}$/);

/** Binary on the wire: Buffer in Node, ArrayBuffer or Uint8Array in browsers. */
export const Binary = z
  .union([z.instanceof(Uint8Array), z.instanceof(ArrayBuffer)])
  .transform((b) => (b instanceof Uint8Array ? b : new Uint8Array(b)))
  .refine((b) => b.length > 0 && b.length <= CHAT_MAX_BOX_BYTES, 'box size');

const chunkFields = {
  kid: z.number().int().min(0).max(255),
  id: ChatMessageId,
  index: z.number().int().min(0).max(CHAT_MAX_CHUNKS - 1),
  total: z.number().int().min(1).max(CHAT_MAX_CHUNKS),
  box: Binary,
};

export const chatRequests = {
  chatChunk: {
    req: z.object(chunkFields).strict().refine((c) => c.index < c.total, 'index beyond total'),
    /**
     * `behind`: participants (peer ids) this chunk was not relayed to because
     * they are too far behind in reading (server back-pressure); they get the
     * message again through the senders' re-sends (docs/protocol.md, Chat).
     */
    res: z.object({ behind: z.array(Id).max(64).optional() }).strict(),
  },
} as const;

export const chatNotifications = {
  chatChunk: z.object({ from: Id, ...chunkFields }).refine((c) => c.index < c.total, 'index beyond total'),
} as const;

// ------------------------------------------------- chunk 0: message metadata

const TextMeta = z.object({ type: z.literal('text'), text: z.string().min(1).max(CHAT_MAX_TEXT) }).strict();
const FileMeta = z
  .object({
    type: z.literal('file'),
    name: z.string().min(1).max(1024),
    mime: z.enum(CHAT_MIME_TYPES),
    size: z.number().int().min(1).max(CHAT_MAX_FILE_BYTES),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/** Ids a receipt may carry. */
export const CHAT_RECEIPT_MAX_IDS = 64;
/**
 * "I hold these messages" (complete and verified, stored where the page
 * keeps its transcript). A one-chunk transmission of its own; never shown,
 * never stored, never itself acknowledged.
 */
const ReceiptMeta = z.object({ type: z.literal('receipt'), ids: z.array(ChatMessageId).min(1).max(CHAT_RECEIPT_MAX_IDS) }).strict();

/** The metadata of chunk 0, as both ends read it. */
export const ChatMeta = z.discriminatedUnion('type', [TextMeta, FileMeta, ReceiptMeta]);
export type ChatMeta = z.infer<typeof ChatMeta>;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Chunk 0's plaintext for `meta` (UTF-8 JSON). */
export function encodeChatMeta(meta: ChatMeta): Uint8Array {
  return utf8.encode(JSON.stringify(meta));
}

/** Chunk 0's plaintext parsed and validated; undefined for anything malformed (never throws). */
export function parseChatMeta(plain: Uint8Array): ChatMeta | undefined {
  try {
    const parsed = ChatMeta.safeParse(JSON.parse(strictUtf8.decode(plain)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Chunks of a message: the metadata, then a file's bytes in CHAT_CHUNK_BYTES pieces. */
export function totalChunks(meta: ChatMeta): number {
  return meta.type === 'file' ? 1 + Math.ceil(meta.size / CHAT_CHUNK_BYTES) : 1;
}

/** Plaintext length (bytes) of file chunk `index` (1-based, after the metadata) of a `size`-byte file in `total` chunks. */
export function chunkLength(size: number, total: number, index: number): number {
  return index < total - 1 ? CHAT_CHUNK_BYTES : size - (total - 2) * CHAT_CHUNK_BYTES;
}
