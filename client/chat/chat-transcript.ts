// What of a chat survives a reload of the tab, and where it goes: the shape
// of the stored transcript (validated again when read back), and the store
// interface the session writes through (chat-transcript-store.ts is the
// browser's: sealed in sessionStorage and IndexedDB).
import { z } from 'zod';
import { CHAT_MAX_FILE_BYTES, CHAT_MAX_TEXT, CHAT_MIME_TYPES, ChatMessageId } from '../../shared/protocol/chat.ts';
import { MAX_FILE_NAME_CHARS } from './chat-input.ts';
import { MAX_MESSAGES } from './chat-history.ts';
import { MAX_PARTICIPANTS } from './chat-delivery.ts';

/** Forgotten ids kept in the stored transcript (the in-memory list keeps more). */
export const MAX_STORED_RETIRED_IDS = 2_000;

// Participant and peer ids come from the server (ChatLink): bounded, opaque.
const Ref = z.string().min(1).max(128);
const Name = z.string().max(256);

const StoredFile = z
  .object({
    name: z.string().min(1).max(MAX_FILE_NAME_CHARS * 2),
    mime: z.enum(CHAT_MIME_TYPES),
    size: z.number().int().min(1).max(CHAT_MAX_FILE_BYTES),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .strict();

const StoredMessage = z
  .object({
    id: ChatMessageId,
    /** 'me' or the sender's peer id when it sent it. */
    from: Ref,
    fromParticipant: Ref.optional(),
    fromName: Name.optional(),
    kind: z.enum(['text', 'file']),
    text: z.string().min(1).max(CHAT_MAX_TEXT).optional(),
    file: StoredFile.optional(),
    /** Our own: 'sending' (unfinished), 'sent', 'failed'. Received: 'received'. */
    status: z.enum(['sending', 'sent', 'failed', 'received']),
    error: z.enum(['no-key', 'network', 'unavailable']).optional(),
    /** Messages we sent or re-sent: participants whose receipt we wait for, and those that gave it. */
    delivery: z.object({ waiting: z.array(Ref).max(MAX_PARTICIPANTS), acked: z.array(Ref).max(MAX_PARTICIPANTS) }).strict().optional(),
  })
  .strict()
  .refine((m) => (m.kind === 'text') === (m.text !== undefined) && (m.kind === 'file') === (m.file !== undefined), 'kind');

/** The stored transcript of one consultation, as JSON before sealing. */
export const StoredTranscript = z
  .object({
    v: z.literal(1),
    messages: z.array(StoredMessage).max(MAX_MESSAGES),
    retired: z.array(ChatMessageId).max(MAX_STORED_RETIRED_IDS),
    participants: z.array(z.object({ id: Ref, left: z.boolean() }).strict()).max(MAX_PARTICIPANTS),
  })
  .strict();
export type StoredTranscript = z.infer<typeof StoredTranscript>;
export type StoredMessage = z.infer<typeof StoredMessage>;

/**
 * Where a consultation's transcript lives between reloads of the tab. Every
 * method fails closed: what cannot be read (missing, tampered with, sealed
 * under another tab's key) reads as nothing; writes report failure, never
 * throw.
 */
export interface ChatTranscriptStore {
  /** The stored transcript, if there is one and it opens and validates. Synchronous, so de-duplication works from the first chunk. */
  load(): StoredTranscript | undefined;
  /** Replaces the stored transcript. False if it could not be stored (quota). */
  save(transcript: StoredTranscript): boolean;
  /** Stores a file's bytes under a message id. */
  saveFile(messageId: string, bytes: Uint8Array): Promise<boolean>;
  /** A file's bytes, if stored and they open. */
  loadFile(messageId: string): Promise<Uint8Array | undefined>;
  deleteFile(messageId: string): Promise<void>;
  /** Erases this consultation's transcript and files. */
  erase(): Promise<void>;
}
