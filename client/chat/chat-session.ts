// End-to-end encrypted chat and file transfer for one participant.
//
// A message is one chunk of encrypted metadata (the text itself, or a file's
// name, type, size and SHA-256) followed, for a file, by its bytes in 64 KiB
// chunks, each sealed on its own (shared/crypto/chat-crypto.ts) under a chat
// key derived from the sender's current media base key. The server relays
// chunks to the other participants and sees only ids, counts and sizes.
//
// Everything that arrives is hostile until proven otherwise: each chunk must
// decrypt under a key the key agreement holds for its claimed sender and KID,
// metadata must parse and pass the allow-lists and limits, chunk sizes must
// add up, and a finished file must match its announced size, type and hash.
// Anything else is dropped and counted, never shown. Memory held for
// unfinished messages is bounded per sender.
//
// UI code observes it through subscribe()/snapshot(), like CallSession.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { TokenBucket } from '../../shared/util/token-bucket.ts';
import { deriveChatKey, openChatChunk, sealChatChunk, type ChatChunkContext } from '../../shared/crypto/chat-crypto.ts';
import { CHAT_CHUNK_BYTES, CHAT_MAX_FILE_BYTES } from '../../shared/protocol/chat.ts';
import type { NotificationOf, RequestOf, ResponseOf } from '../../shared/protocol/signalling.ts';

/** What the chat needs from the key agreement (wired to KeyAgreement.currentSendKey / receiveKey). */
export interface ChatKeys {
  /** Our current media base key and its KID. The array may be wiped later: used at once, never kept. */
  sendKey(): { kid: bigint; key: Uint8Array } | undefined;
  /** A verified participant's media base key under `kid`, if held. Same caveat. */
  receiveKey(peerId: string, kid: bigint): Uint8Array | undefined;
}

/** The part of SignallingClient the chat uses (a SignallingClient fits). */
export interface ChatSignalling {
  request(name: 'chatChunk', payload: RequestOf<'chatChunk'>): Promise<ResponseOf<'chatChunk'>>;
  on(name: 'chatChunk', handler: (data: NotificationOf<'chatChunk'>) => void): () => void;
  on(name: 'peerLeft', handler: (data: NotificationOf<'peerLeft'>) => void): () => void;
}

export const CHAT_MAX_TEXT = 4000;
export const CHAT_MIME_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ChatMime = (typeof CHAT_MIME_TYPES)[number];
/** For <input type=file accept>. */
export const CHAT_ACCEPT = '.pdf,.png,.jpg,.jpeg,.gif,.webp,' + CHAT_MIME_TYPES.join(',');

/** An unfinished message is dropped after this long without a new chunk. */
export const INCOMPLETE_IDLE_MS = 60_000;
/** Bytes held (or announced) for one sender's unfinished messages. */
export const MAX_PENDING_BYTES_PER_PEER = 25 * 1024 * 1024;
export const MAX_INCOMPLETE_PER_PEER = 4;
/** Oldest messages beyond these are forgotten (and their files released). */
export const MAX_MESSAGES = 500;
export const MAX_STORED_FILE_BYTES = 200 * 1024 * 1024;
export const MAX_FILE_NAME_CHARS = 100;

export type ChatStatus = 'sending' | 'sent' | 'receiving' | 'received' | 'failed';
/** Why a message we sent (or re-sent) failed. */
export type ChatSendError = 'no-key' | 'network' | 'unavailable';

export interface ChatFileInfo {
  /** Sanitized: no path separators or control characters, extension matching `mime`, capped length. */
  name: string;
  mime: ChatMime;
  size: number;
  /** Object URL of the verified file (received files only, once complete). */
  url?: string;
  /** Released to bound memory; can no longer be opened or re-sent. */
  expired?: boolean;
}

export interface ChatMessage {
  id: string;
  /** 'me' or the sender's peer id. */
  from: string;
  kind: 'text' | 'file';
  text?: string;
  file?: ChatFileInfo;
  /** sending: acknowledged chunks / total; receiving: received chunks / total. */
  progress: number;
  status: ChatStatus;
  error?: ChatSendError;
  /** Our re-sending of a message we received (our own messages use status/progress). */
  resend?: { progress: number; status: 'sending' | 'sent' | 'failed'; error?: ChatSendError };
}

export interface ChatSnapshot {
  messages: readonly ChatMessage[];
  /** Messages that arrived but could not be decrypted (no key for them, or tampered with). */
  couldNotDecrypt: number;
  /** Messages dropped as malformed, over a limit or left unfinished. */
  dropped: number;
}

export type ChatInputErrorCode = 'empty' | 'too-long' | 'unsupported-type' | 'too-large' | 'closed';

/** Thrown (as a rejection) by sendText/sendFile for input the chat refuses. */
export class ChatInputError extends Error {
  constructor(readonly code: ChatInputErrorCode) {
    super(`chat: ${code}`);
  }
}

export interface ChatSessionOptions {
  /** Clock for the idle timeout (tests). */
  now?: () => number;
  /** Object URL factory (tests, or environments without URL.createObjectURL). */
  objectUrls?: { create(blob: Blob): string; revoke(url: string): void };
  /**
   * Pacing of outgoing chunks. The server allows 100 requests in a burst and
   * 50/s per connection for everything; chat keeps to less so that key
   * agreement messages are never refused. `false`: no pacing (tests).
   */
  pace?: { burst: number; perSecond: number } | false;
  /** Retries of a chunk the server refused as rate-limited or did not acknowledge in time. */
  retries?: number;
  retryBaseMs?: number;
  /** How often unfinished messages are checked for the idle timeout (0: only when chunks arrive). */
  sweepEveryMs?: number;
  /** Lower limits than MAX_MESSAGES / MAX_STORED_FILE_BYTES (tests). */
  maxMessages?: number;
  maxStoredFileBytes?: number;
}

// ------------------------------------------------------------ input helpers

const EXTENSIONS: Record<ChatMime, readonly string[]> = {
  'application/pdf': ['pdf'],
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
};

function isChatMime(s: string): s is ChatMime {
  return (CHAT_MIME_TYPES as readonly string[]).includes(s);
}

/** The allowed type of a file to send, from its declared type or else its extension. */
export function chatMimeOf(type: string, name: string): ChatMime | undefined {
  const t = type.trim().toLowerCase();
  if (t === 'image/jpg' || t === 'image/pjpeg') return 'image/jpeg';
  if (t) return isChatMime(t) ? t : undefined;
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (!ext) return undefined;
  return CHAT_MIME_TYPES.find((m) => EXTENSIONS[m].includes(ext));
}

// C0/C1 controls, zero-width and bidi formatting characters: invisible, or able to disguise a name.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/**
 * A file name safe to show and to save: no control or bidi characters, no
 * path separators or characters Windows refuses, no leading dots, an
 * extension that matches the (verified) type, at most MAX_FILE_NAME_CHARS.
 */
export function sanitizeFileName(raw: string, mime: ChatMime): string {
  let name = raw.normalize('NFC').replace(INVISIBLE, '').replace(/[/\\:*?"<>|]/g, '_');
  name = name.replace(/\s+/g, ' ').trim().replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  const exts = EXTENSIONS[mime];
  const match = /\.([A-Za-z0-9]{1,8})$/.exec(name);
  let base = name;
  let ext = exts[0]!;
  if (match && exts.includes(match[1]!.toLowerCase())) {
    base = name.slice(0, -match[0].length);
    ext = match[1]!;
  }
  const room = MAX_FILE_NAME_CHARS - ext.length - 1;
  const chars = Array.from(base); // by code point, so a cut never splits a surrogate pair
  base = (chars.length > room ? chars.slice(0, room).join('') : base).trim();
  return `${base || 'file'}.${ext}`;
}

/** Drops control and bidi-override characters (keeps tabs and line breaks). */
export function cleanText(raw: string): string {
  return raw.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
}

/** Does the content start like the type says? (Never open bytes as a type they are not.) */
export function contentMatchesMime(head: Uint8Array, mime: ChatMime): boolean {
  const at = (offset: number, ...bytes: number[]) => bytes.every((b, i) => head[offset + i] === b);
  const ascii = (offset: number, s: string) => at(offset, ...Array.from(s, (c) => c.charCodeAt(0)));
  switch (mime) {
    case 'application/pdf': {
      // Readers accept the header anywhere in the first KiB.
      const limit = Math.min(head.length - 5, 1024);
      for (let i = 0; i <= limit; i++) if (ascii(i, '%PDF-')) return true;
      return false;
    }
    case 'image/png':
      return at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    case 'image/jpeg':
      return at(0, 0xff, 0xd8, 0xff);
    case 'image/gif':
      return ascii(0, 'GIF87a') || ascii(0, 'GIF89a');
    case 'image/webp':
      return ascii(0, 'RIFF') && ascii(8, 'WEBP');
  }
}

// ----------------------------------------------------------------- metadata

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
const Meta = z.discriminatedUnion('type', [TextMeta, FileMeta]);
type Meta = z.infer<typeof Meta>;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function parseMeta(plain: Uint8Array): Meta | undefined {
  try {
    const parsed = Meta.safeParse(JSON.parse(strictUtf8.decode(plain)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Chunks of a message: metadata, then the file. */
function totalChunks(meta: Meta): number {
  return meta.type === 'text' ? 1 : 1 + Math.ceil(meta.size / CHAT_CHUNK_BYTES);
}

/** Plaintext length of file chunk `index` (1-based, after the metadata). */
function chunkLength(size: number, total: number, index: number): number {
  return index < total - 1 ? CHAT_CHUNK_BYTES : size - (total - 2) * CHAT_CHUNK_BYTES;
}

async function readBytes(blob: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ session

interface Entry {
  msg: ChatMessage; // replaced, never mutated, so snapshots stay stable
  text?: string;
  /** Our own file, or a received file once verified. */
  blob?: Blob;
  sha256?: string;
  busy: boolean;
}

/** An unfinished incoming transmission of one message by one sender. */
interface Incoming {
  key: string;
  from: string;
  id: string;
  kid: number;
  total: number;
  chatKey: Uint8Array;
  chunks: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  meta: Meta | undefined;
  lastAt: number;
  /** Shown in the list once its metadata is verified. */
  shown: boolean;
}

const MAX_FAILED_REMEMBERED = 512;
const MAX_RETIRED_IDS = 10_000;

export class ChatSession {
  private readonly entries = new Map<string, Entry>();
  private order: string[] = [];
  private readonly incoming = new Map<string, Incoming>();
  /** Message id → the transmission currently receiving it. */
  private readonly incomingIds = new Map<string, string>();
  /** Transmissions that failed: their remaining chunks are ignored (until a new index 0). */
  private readonly failed = new Set<string>();
  /** Ids of messages forgotten to stay within maxMessages. */
  private readonly retired = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private current: ChatSnapshot = { messages: [], couldNotDecrypt: 0, dropped: 0 };
  private couldNotDecrypt = 0;
  private dropped = 0;
  private storedFileBytes = 0;
  private fileLane: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly sweepTimer: ReturnType<typeof setInterval> | undefined;
  private readonly now: () => number;
  private readonly urls: { create(blob: Blob): string; revoke(url: string): void };
  private readonly pacer: TokenBucket | undefined;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private readonly maxMessages: number;
  private readonly maxStoredFileBytes: number;

  constructor(
    private readonly signalling: ChatSignalling,
    private readonly keys: ChatKeys,
    private readonly roomId: string,
    private readonly selfId: string,
    options: ChatSessionOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.urls = options.objectUrls ?? { create: (b) => URL.createObjectURL(b), revoke: (u) => URL.revokeObjectURL(u) };
    const pace = options.pace ?? { burst: 20, perSecond: 30 };
    this.pacer = pace ? new TokenBucket(pace.burst, pace.perSecond) : undefined;
    this.retries = options.retries ?? 5;
    this.retryBaseMs = options.retryBaseMs ?? 200;
    this.maxMessages = Math.min(options.maxMessages ?? MAX_MESSAGES, MAX_MESSAGES);
    this.maxStoredFileBytes = Math.min(options.maxStoredFileBytes ?? MAX_STORED_FILE_BYTES, MAX_STORED_FILE_BYTES);
    this.unsubscribe.push(signalling.on('chatChunk', (c) => this.receive(c)));
    this.unsubscribe.push(signalling.on('peerLeft', ({ peerId }) => this.dropFrom(peerId)));
    const every = options.sweepEveryMs ?? 5000;
    this.sweepTimer = every > 0 ? setInterval(() => this.sweep(), every) : undefined;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): ChatSnapshot => this.current;

  /** Sends a text (≤ CHAT_MAX_TEXT characters). Resolves with its id once sent or failed. */
  async sendText(text: string): Promise<string> {
    if (this.closed) throw new ChatInputError('closed');
    const clean = cleanText(text).trim();
    if (!clean) throw new ChatInputError('empty');
    if (clean.length > CHAT_MAX_TEXT) throw new ChatInputError('too-long');
    const entry = this.add({ id: newId(), from: 'me', kind: 'text', text: clean, progress: 0, status: 'sending' });
    entry.text = clean;
    await this.transmit(entry);
    return entry.msg.id;
  }

  /** Sends a PDF or image (PNG, JPEG, GIF, WebP) up to 20 MiB. Resolves with its id once sent or failed. */
  async sendFile(file: Blob & { readonly name?: string }): Promise<string> {
    if (this.closed) throw new ChatInputError('closed');
    const rawName = file.name ?? '';
    const mime = chatMimeOf(file.type, rawName);
    if (!mime) throw new ChatInputError('unsupported-type');
    if (file.size === 0) throw new ChatInputError('empty');
    if (file.size > CHAT_MAX_FILE_BYTES) throw new ChatInputError('too-large');
    if (!contentMatchesMime(await readBytes(file, 0, 1029), mime)) throw new ChatInputError('unsupported-type');
    if (this.closed) throw new ChatInputError('closed');
    const name = sanitizeFileName(rawName, mime);
    const entry = this.add({ id: newId(), from: 'me', kind: 'file', file: { name, mime, size: file.size }, progress: 0, status: 'sending' });
    entry.blob = file;
    await this.transmit(entry);
    return entry.msg.id;
  }

  /**
   * Sends one of our messages, or one we received, again under our current
   * key and with the same id: participants who have it ignore it, one who
   * joined since (or could not decrypt it) gets it. A message we received
   * reaches them as sent by us.
   */
  async resend(messageId: string): Promise<void> {
    const entry = this.entries.get(messageId);
    if (!entry || entry.busy || this.closed) return;
    const { msg } = entry;
    if (msg.from !== 'me' && msg.status !== 'received') return;
    if (msg.kind === 'file' && !entry.blob) {
      this.setSendState(entry, 0, 'failed', 'unavailable');
      return;
    }
    await this.transmit(entry);
  }

  /** Stops everything and releases every object URL. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    for (const u of this.unsubscribe.splice(0)) u();
    for (const inc of this.incoming.values()) inc.chatKey.fill(0);
    this.incoming.clear();
    this.incomingIds.clear();
    for (const entry of this.entries.values()) {
      if (entry.msg.file?.url) this.urls.revoke(entry.msg.file.url);
      entry.blob = undefined;
    }
    this.entries.clear();
    this.order = [];
    this.emit();
  }

  // ------------------------------------------------------------- sending

  private transmit(entry: Entry): Promise<void> {
    entry.busy = true;
    this.setSendState(entry, 0, 'sending');
    const run = () => this.run(entry).finally(() => (entry.busy = false));
    if (entry.msg.kind === 'text') return run();
    // One file at a time, so texts are not stuck behind several files and
    // receivers see at most one unfinished file from us.
    const done = this.fileLane.then(run);
    this.fileLane = done;
    return done;
  }

  private async run(entry: Entry): Promise<void> {
    const { id } = entry.msg;
    const current = this.keys.sendKey();
    if (!current || current.kid < 0n || current.kid > 255n || current.key.length !== 32) {
      this.setSendState(entry, 0, 'failed', 'no-key');
      return;
    }
    const kid = Number(current.kid);
    const chatKey = deriveChatKey(current.key); // the whole message goes under this one key
    try {
      const meta = await this.metadata(entry);
      const total = totalChunks(meta);
      const metaBytes = utf8.encode(JSON.stringify(meta));
      for (let index = 0; index < total; index++) {
        if (this.closed) throw new Error('closed');
        const plain =
          index === 0
            ? metaBytes
            : await readBytes(entry.blob!, (index - 1) * CHAT_CHUNK_BYTES, Math.min(index * CHAT_CHUNK_BYTES, entry.blob!.size));
        const ctx: ChatChunkContext = { roomId: this.roomId, from: this.selfId, kid, id, index, total };
        const box = sealChatChunk(chatKey, ctx, plain);
        await this.sendChunk({ kid, id, index, total, box });
        this.setSendState(entry, (index + 1) / total, index + 1 === total ? 'sent' : 'sending');
      }
    } catch {
      this.setSendState(entry, entry.msg.from === 'me' ? entry.msg.progress : (entry.msg.resend?.progress ?? 0), 'failed', 'network');
    } finally {
      chatKey.fill(0);
    }
  }

  private async metadata(entry: Entry): Promise<Meta> {
    const { msg } = entry;
    if (msg.kind === 'text') return { type: 'text', text: entry.text ?? '' };
    const blob = entry.blob;
    if (!blob || !msg.file) throw new Error('no file');
    if (!entry.sha256) {
      const h = sha256.create();
      for (let at = 0; at < blob.size; at += CHAT_CHUNK_BYTES) {
        h.update(await readBytes(blob, at, Math.min(at + CHAT_CHUNK_BYTES, blob.size)));
      }
      entry.sha256 = bytesToHex(h.digest());
    }
    return { type: 'file', name: msg.file.name, mime: msg.file.mime, size: blob.size, sha256: entry.sha256 };
  }

  private async sendChunk(payload: RequestOf<'chatChunk'>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await this.pacer?.wait();
      try {
        await this.signalling.request('chatChunk', payload);
        return;
      } catch (err) {
        const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
        // A retried chunk that did get through is a duplicate receivers ignore.
        if ((code !== 'rate-limited' && code !== 'timeout') || attempt >= this.retries || this.closed) throw err;
        await sleep(this.retryBaseMs * 2 ** attempt);
      }
    }
  }

  private setSendState(entry: Entry, progress: number, status: 'sending' | 'sent' | 'failed', error?: ChatSendError): void {
    if (this.entries.get(entry.msg.id) !== entry) return; // forgotten meanwhile
    const { msg } = entry;
    if (msg.from === 'me') {
      const { error: _old, ...rest } = msg;
      entry.msg = { ...rest, progress, status, ...(error ? { error } : {}) };
    } else {
      entry.msg = { ...msg, resend: { progress, status, ...(error ? { error } : {}) } };
    }
    this.emit();
  }

  // ----------------------------------------------------------- receiving

  private receive(c: NotificationOf<'chatChunk'>): void {
    if (this.closed) return;
    try {
      this.sweep(false);
      this.receiveChunk(c);
    } catch (err) {
      // Nothing from the network may break the page.
      console.warn('chat: chunk dropped', err);
    }
    this.emit();
  }

  private receiveChunk(c: NotificationOf<'chatChunk'>): void {
    const { from, kid, id, index, total, box } = c;
    if (from === this.selfId || index >= total) return;
    const key = `${from}/${id}`;
    let inc = this.incoming.get(key);
    if (!inc) {
      if (this.failed.has(key)) {
        if (index !== 0) return; // the rest of a transmission that already failed
        this.failed.delete(key); // a new transmission (a re-send)
      }
      const known = this.entries.get(id);
      const retry = known && known.msg.from !== 'me' && known.msg.status === 'failed' && !known.busy;
      if ((known && !retry) || this.incomingIds.has(id) || this.retired.has(id)) return; // have (or had) it already
      if ([...this.incoming.values()].filter((i) => i.from === from).length >= MAX_INCOMPLETE_PER_PEER) {
        this.dropped++;
        this.forget(key);
        return;
      }
      const baseKey = this.keys.receiveKey(from, BigInt(kid));
      if (!baseKey || baseKey.length !== 32) {
        this.couldNotDecrypt++;
        this.forget(key);
        return;
      }
      inc = {
        key, from, id, kid, total,
        chatKey: deriveChatKey(baseKey), // derived now: the key agreement may drop the base key meanwhile
        chunks: new Array<Uint8Array | undefined>(total).fill(undefined),
        received: 0, bytes: 0, meta: undefined, lastAt: this.now(), shown: false,
      };
      this.incoming.set(key, inc);
      this.incomingIds.set(id, key);
    } else {
      if (inc.kid !== kid || inc.total !== total) return this.fail(inc, 'dropped');
      if (inc.chunks[index]) return; // duplicate
    }

    let plain: Uint8Array;
    try {
      plain = openChatChunk(inc.chatKey, { roomId: this.roomId, from, kid, id, index, total }, box);
    } catch {
      return this.fail(inc, 'undecryptable');
    }
    inc.lastAt = this.now();

    if (index === 0) {
      const meta = parseMeta(plain);
      if (!meta || totalChunks(meta) !== total) return this.fail(inc, 'dropped');
      inc.meta = meta;
      // Chunks that came before the metadata must fit it too.
      for (let i = 1; i < total; i++) {
        const chunk = inc.chunks[i];
        if (chunk && meta.type === 'file' && chunk.length !== chunkLength(meta.size, total, i)) return this.fail(inc, 'dropped');
      }
    } else {
      if (plain.length > CHAT_CHUNK_BYTES) return this.fail(inc, 'dropped');
      const meta = inc.meta;
      if (meta && (meta.type !== 'file' || plain.length !== chunkLength(meta.size, total, index))) return this.fail(inc, 'dropped');
      inc.bytes += plain.length;
    }
    inc.chunks[index] = index === 0 ? new Uint8Array(0) : plain;
    inc.received++;
    if (this.pendingBytes(from) > MAX_PENDING_BYTES_PER_PEER) return this.fail(inc, 'dropped');

    if (inc.meta && !inc.shown && inc.received < total) this.show(inc, inc.meta);
    if (inc.received === total) this.complete(inc);
    else if (inc.shown) this.setReceiveProgress(inc);
  }

  /** Announced size (once known) or bytes held, whichever is larger, summed over a sender's unfinished messages. */
  private pendingBytes(peerId: string): number {
    let sum = 0;
    for (const i of this.incoming.values()) {
      if (i.from === peerId) sum += Math.max(i.bytes, i.meta?.type === 'file' ? i.meta.size : 0);
    }
    return sum;
  }

  private show(inc: Incoming, meta: Meta): void {
    inc.shown = true;
    const base: ChatMessage = { id: inc.id, from: inc.from, kind: meta.type, progress: inc.received / inc.total, status: 'receiving' };
    if (meta.type === 'file') base.file = { name: sanitizeFileName(meta.name, meta.mime), mime: meta.mime, size: meta.size };
    const known = this.entries.get(inc.id);
    if (known) known.msg = base; // a failed message, now re-sent: reuse its place
    else this.add(base);
  }

  private setReceiveProgress(inc: Incoming): void {
    const entry = this.entries.get(inc.id);
    if (entry) entry.msg = { ...entry.msg, progress: inc.received / inc.total };
  }

  private complete(inc: Incoming): void {
    const meta = inc.meta!;
    this.incoming.delete(inc.key);
    this.incomingIds.delete(inc.id);
    inc.chatKey.fill(0);
    let entry: Entry | undefined;
    if (meta.type === 'text') {
      const text = cleanText(meta.text).trim();
      if (!text) return void this.dropped++;
      const msg: ChatMessage = { id: inc.id, from: inc.from, kind: 'text', text, progress: 1, status: 'received' };
      entry = this.entries.get(inc.id);
      if (entry) entry.msg = msg;
      else entry = this.add(msg);
      entry.text = text;
    } else {
      const parts = inc.chunks.slice(1) as Uint8Array[];
      const h = sha256.create();
      let size = 0;
      for (const p of parts) {
        h.update(p);
        size += p.length;
      }
      const ok = size === meta.size && bytesToHex(h.digest()) === meta.sha256 && parts[0] !== undefined && contentMatchesMime(parts[0], meta.mime);
      entry = this.entries.get(inc.id);
      if (!ok) {
        this.dropped++;
        this.forget(inc.key);
        if (entry && entry.msg.status === 'receiving') entry.msg = { ...entry.msg, status: 'failed' };
        return;
      }
      const blob = new Blob(parts as BlobPart[], { type: meta.mime });
      const file: ChatFileInfo = { name: sanitizeFileName(meta.name, meta.mime), mime: meta.mime, size: meta.size, url: this.urls.create(blob) };
      const msg: ChatMessage = { id: inc.id, from: inc.from, kind: 'file', file, progress: 1, status: 'received' };
      if (entry) entry.msg = msg;
      else entry = this.add(msg);
      entry.blob = blob;
      entry.sha256 = meta.sha256;
      this.storedFileBytes += meta.size;
      this.releaseOldFiles(inc.id);
    }
  }

  private fail(inc: Incoming, why: 'undecryptable' | 'dropped'): void {
    if (why === 'undecryptable') this.couldNotDecrypt++;
    else this.dropped++;
    this.incoming.delete(inc.key);
    this.incomingIds.delete(inc.id);
    inc.chatKey.fill(0);
    inc.chunks = [];
    this.forget(inc.key);
    const entry = this.entries.get(inc.id);
    if (inc.shown && entry && entry.msg.status === 'receiving') entry.msg = { ...entry.msg, status: 'failed' };
  }

  /** Remembers a failed transmission so its remaining chunks are ignored quietly. */
  private forget(key: string): void {
    this.failed.add(key);
    if (this.failed.size > MAX_FAILED_REMEMBERED) {
      const oldest = this.failed.values().next().value;
      if (oldest !== undefined) this.failed.delete(oldest);
    }
  }

  /** Drops unfinished messages idle for INCOMPLETE_IDLE_MS. */
  private sweep(emit = true): void {
    if (this.closed) return;
    const now = this.now();
    let changed = false;
    for (const inc of [...this.incoming.values()]) {
      if (now - inc.lastAt > INCOMPLETE_IDLE_MS) {
        this.fail(inc, 'dropped');
        changed = true;
      }
    }
    if (changed && emit) this.emit();
  }

  private dropFrom(peerId: string): void {
    if (this.closed) return;
    let changed = false;
    for (const inc of [...this.incoming.values()]) {
      if (inc.from === peerId) {
        this.fail(inc, 'dropped');
        changed = true;
      }
    }
    if (changed) this.emit();
  }

  // --------------------------------------------------------------- list

  private add(msg: ChatMessage): Entry {
    const entry: Entry = { msg, busy: false };
    this.entries.set(msg.id, entry);
    this.order.push(msg.id);
    while (this.order.length > this.maxMessages) {
      const victim = this.order.find((id) => {
        const e = this.entries.get(id);
        return e && !e.busy && e.msg.status !== 'receiving';
      });
      if (!victim) break;
      this.removeEntry(victim);
    }
    return entry;
  }

  private removeEntry(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    if (e.msg.file?.url) this.urls.revoke(e.msg.file.url);
    if (e.msg.from !== 'me' && e.blob) this.storedFileBytes -= e.blob.size;
    this.entries.delete(id);
    this.order = this.order.filter((x) => x !== id);
    // Still recognised, so a replay of a forgotten message does not show it again.
    this.retired.add(id);
    if (this.retired.size > MAX_RETIRED_IDS) {
      const oldest = this.retired.values().next().value;
      if (oldest !== undefined) this.retired.delete(oldest);
    }
  }

  /** Keeps received files within MAX_STORED_FILE_BYTES, releasing the oldest first. */
  private releaseOldFiles(keep: string): void {
    for (const id of this.order) {
      if (this.storedFileBytes <= this.maxStoredFileBytes) return;
      const e = this.entries.get(id);
      if (id === keep) continue;
      if (!e || e.msg.from === 'me' || !e.blob || e.busy || !e.msg.file) continue;
      if (e.msg.file.url) this.urls.revoke(e.msg.file.url);
      this.storedFileBytes -= e.blob.size;
      e.blob = undefined;
      const { url: _url, ...file } = e.msg.file;
      e.msg = { ...e.msg, file: { ...file, expired: true } };
    }
  }

  private emit(): void {
    this.current = {
      messages: this.order.map((id) => this.entries.get(id)!.msg),
      couldNotDecrypt: this.couldNotDecrypt,
      dropped: this.dropped,
    };
    for (const l of this.listeners) l();
  }
}

function newId(): string {
  return bytesToHex(randomBytes(16));
}
