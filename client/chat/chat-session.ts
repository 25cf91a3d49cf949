// End-to-end encrypted chat and file transfer for one participant: wires the
// parts together and gives the UI one observable list.
//
// A message is one chunk of encrypted metadata (the text itself, or a file's
// name, type, size and SHA-256) followed, for a file, by its bytes in 64 KiB
// chunks, each sealed on its own (shared/crypto/chat-crypto.ts) under a chat
// key derived from the sender's current media base key. The server relays
// chunks to the other participants and sees only ids, counts and sizes.
//
// - chat-sender.ts     transmitting (pacing, retries, one file at a time)
// - chat-reassembly.ts incoming untrusted chunks → verified messages
// - chat-history.ts    the list, its order and memory caps
// - chat-input.ts      pure checks of what is sent and shown
//
// UI code observes it through subscribe()/snapshot(), like CallSession.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { CHAT_CHUNK_BYTES, CHAT_MAX_FILE_BYTES, type ChatMeta } from '../../shared/protocol/chat.ts';
import type { NotificationOf } from '../../shared/protocol/signalling.ts';
import { ChatHistory, MAX_MESSAGES, MAX_STORED_FILE_BYTES, type Entry } from './chat-history.ts';
import { CHAT_MAX_TEXT, ChatInputError, chatMimeOf, cleanText, contentMatchesMime, readBytes, sanitizeFileName } from './chat-input.ts';
import { ChatReassembly, type Completed, type Started } from './chat-reassembly.ts';
import { ChatSender, type SendResult } from './chat-sender.ts';
import type { ChatKeys, ChatMessage, ChatSendError, ChatSessionOptions, ChatSignalling, ChatSnapshot } from './chat-types.ts';

export * from './chat-types.ts';
export { CHAT_ACCEPT, CHAT_MAX_TEXT, CHAT_MIME_TYPES, ChatInputError, MAX_FILE_NAME_CHARS, chatMimeOf, cleanText, contentMatchesMime, sanitizeFileName } from './chat-input.ts';
export type { ChatInputErrorCode, ChatMime } from './chat-input.ts';
export { MAX_MESSAGES, MAX_STORED_FILE_BYTES } from './chat-history.ts';
export { INCOMPLETE_IDLE_MS, MAX_INCOMPLETE_PER_PEER, MAX_PENDING_BYTES_PER_PEER } from './chat-reassembly.ts';

export class ChatSession {
  private readonly history: ChatHistory;
  private readonly reassembly: ChatReassembly;
  private readonly sender: ChatSender;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private current: ChatSnapshot = { messages: [], couldNotDecrypt: 0, dropped: 0 };
  private closed = false;
  private readonly sweepTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly signalling: ChatSignalling,
    private readonly keys: ChatKeys,
    private readonly roomId: string,
    private readonly selfId: string,
    options: ChatSessionOptions = {},
  ) {
    const now = options.now ?? Date.now;
    this.history = new ChatHistory(
      {
        maxMessages: Math.min(options.maxMessages ?? MAX_MESSAGES, MAX_MESSAGES),
        maxStoredFileBytes: Math.min(options.maxStoredFileBytes ?? MAX_STORED_FILE_BYTES, MAX_STORED_FILE_BYTES),
      },
      options.objectUrls ?? { create: (b) => URL.createObjectURL(b), revoke: (u) => URL.revokeObjectURL(u) },
    );
    this.reassembly = new ChatReassembly(
      { roomId, keys: () => this.keys, selfId: () => this.selfId, now },
      {
        holding: (id) => this.holding(id),
        started: (s) => this.onStarted(s),
        progressed: (_from, id, progress) => this.onProgress(id, progress),
        completed: (c) => this.onCompleted(c),
        failed: (_from, id) => this.onFailed(id),
      },
    );
    this.sender = new ChatSender({ signalling, keys, selfId }, roomId, {
      pace: options.pace ?? { burst: 20, perSecond: 30 },
      retries: options.retries ?? 5,
      retryBaseMs: options.retryBaseMs ?? 200,
    });
    this.unsubscribe.push(signalling.on('chatChunk', (c) => this.receive(c)));
    this.unsubscribe.push(
      signalling.on('peerLeft', ({ peerId }) => {
        if (!this.closed && this.reassembly.dropFrom(peerId)) this.emit();
      }),
    );
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
    const entry = this.history.add({ id: newId(), from: 'me', kind: 'text', text: clean, progress: 0, status: 'sending' });
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
    const entry = this.history.add({ id: newId(), from: 'me', kind: 'file', file: { name, mime, size: file.size }, progress: 0, status: 'sending' });
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
    const entry = this.history.get(messageId);
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
    this.sender.close();
    this.reassembly.clear();
    this.history.clear();
    this.emit();
  }

  // ------------------------------------------------------------- sending

  private async transmit(entry: Entry): Promise<void> {
    entry.busy = true;
    this.setSendState(entry, 0, 'sending');
    let result: SendResult;
    try {
      result = await this.sender.send(
        { id: entry.msg.id, meta: () => this.metadata(entry), ...(entry.msg.kind === 'file' ? { blob: entry.blob! } : {}) },
        (p) => this.setSendState(entry, p, p === 1 ? 'sent' : 'sending'),
      );
    } finally {
      entry.busy = false;
    }
    if (!result.ok) {
      const progress = result.error === 'no-key' ? 0 : entry.msg.from === 'me' ? entry.msg.progress : (entry.msg.resend?.progress ?? 0);
      this.setSendState(entry, progress, 'failed', result.error);
    }
  }

  private async metadata(entry: Entry): Promise<ChatMeta> {
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

  private setSendState(entry: Entry, progress: number, status: 'sending' | 'sent' | 'failed', error?: ChatSendError): void {
    if (this.history.get(entry.msg.id) !== entry) return; // forgotten meanwhile
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
      this.reassembly.sweep();
      this.reassembly.receive(c);
    } catch (err) {
      // Nothing from the network may break the page.
      console.warn('chat: chunk dropped', err);
    }
    this.emit();
  }

  private sweep(): void {
    if (!this.closed && this.reassembly.sweep()) this.emit();
  }

  private holding(id: string): 'new' | 'retry' | 'have' {
    if (this.history.isRetired(id)) return 'have';
    const known = this.history.get(id);
    if (!known) return 'new';
    return known.msg.from !== 'me' && known.msg.status === 'failed' && !known.busy ? 'retry' : 'have';
  }

  private onStarted({ from, id, meta, progress }: Started): void {
    const base: ChatMessage = { id, from, kind: meta.type, progress, status: 'receiving' };
    if (meta.type === 'file') base.file = { name: sanitizeFileName(meta.name, meta.mime), mime: meta.mime, size: meta.size };
    const known = this.history.get(id);
    if (known) known.msg = base; // a failed message, now re-sent: reuse its place
    else this.history.add(base);
  }

  private onProgress(id: string, progress: number): void {
    const entry = this.history.get(id);
    if (entry) entry.msg = { ...entry.msg, progress };
  }

  private onCompleted(c: Completed): void {
    if (c.kind === 'text') {
      const msg: ChatMessage = { id: c.id, from: c.from, kind: 'text', text: c.text, progress: 1, status: 'received' };
      const entry = this.history.get(c.id) ?? this.history.add(msg);
      entry.msg = msg;
      entry.text = c.text;
      return;
    }
    const { meta, blob } = c;
    const entry = this.history.get(c.id) ?? this.history.add({ id: c.id, from: c.from, kind: 'file', progress: 1, status: 'received' });
    const file = { name: sanitizeFileName(meta.name, meta.mime), mime: meta.mime, size: meta.size };
    entry.msg = { id: c.id, from: c.from, kind: 'file', file, progress: 1, status: 'received' };
    const url = this.history.holdReceivedFile(entry, blob, meta.sha256);
    entry.msg = { ...entry.msg, file: { ...file, url } };
  }

  private onFailed(id: string): void {
    const entry = this.history.get(id);
    if (entry && entry.msg.status === 'receiving') entry.msg = { ...entry.msg, status: 'failed' };
  }

  private emit(): void {
    this.current = {
      messages: this.history.messages(),
      couldNotDecrypt: this.reassembly.couldNotDecrypt,
      dropped: this.reassembly.dropped,
    };
    for (const l of this.listeners) l();
  }
}

function newId(): string {
  return bytesToHex(randomBytes(16));
}
