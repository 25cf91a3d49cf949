// End-to-end encrypted chat and file transfer for one participant: wires the
// parts together and gives the UI one observable list.
//
// A message is one chunk of encrypted metadata (the text itself, or a file's
// name, type, size and SHA-256) followed, for a file, by its bytes in 64 KiB
// chunks, each sealed on its own (shared/crypto/chat-crypto.ts) under a chat
// key derived from the sender's current media base key. The server relays
// chunks to the other participants and sees only ids, counts and sizes.
//
// Delivered exactly once across reconnects and reloads: a receiver answers
// every complete message with an encrypted receipt; the sender sends again
// (same id, current key) what a participant has not acknowledged when it
// comes back, then with back-off; receivers drop what they already hold by
// id, and answer it again. The list survives a rejoin (rebind) and, with a
// transcript store, a reload of the tab.
//
// - chat-sender.ts     transmitting (pacing, retries, pause/resume/new link, one file at a time)
// - chat-reassembly.ts incoming untrusted chunks → verified messages, receipts, duplicates
// - chat-delivery.ts   who still needs which of our messages; when to send again
// - chat-receipts.ts   receipts we owe, batched and bounded
// - chat-history.ts    the list, its order and memory caps
// - chat-outbox.ts     our messages onto the wire (visibly or in the background), receipts
// - chat-archive.ts    what of it is stored, and when (store: chat-transcript-store.ts)
// - chat-restore.ts    the list to and from the stored transcript
// - chat-input.ts      pure checks of what is sent and shown
//
// UI code observes it through subscribe()/snapshot(), like CallSession.
import { CHAT_MAX_FILE_BYTES } from '../../shared/protocol/chat.ts';
import type { NotificationOf } from '../../shared/protocol/signalling.ts';
import { ChatArchive } from './chat-archive.ts';
import { ChatDelivery } from './chat-delivery.ts';
import { ChatHistory, MAX_MESSAGES, MAX_STORED_FILE_BYTES } from './chat-history.ts';
import { CHAT_MAX_TEXT, ChatInputError, chatMimeOf, cleanText, contentMatchesMime, readBytes, sanitizeFileName } from './chat-input.ts';
import { ChatOutbox, newId } from './chat-outbox.ts';
import { ChatReassembly, type Completed, type Started } from './chat-reassembly.ts';
import { ReceiptQueue } from './chat-receipts.ts';
import { collectTranscript, restoreTranscript } from './chat-restore.ts';
import { ChatSender } from './chat-sender.ts';
import type { ChatKeys, ChatLink, ChatMessage, ChatSessionOptions, ChatSignalling, ChatSnapshot } from './chat-types.ts';

export * from './chat-types.ts';
export type { ChatTranscriptStore, StoredTranscript } from './chat-transcript.ts';
export { CHAT_ACCEPT, CHAT_MAX_TEXT, CHAT_MIME_TYPES, ChatInputError, MAX_FILE_NAME_CHARS, chatMimeOf, cleanText, contentMatchesMime, sanitizeFileName } from './chat-input.ts';
export type { ChatInputErrorCode, ChatMime } from './chat-input.ts';
export { MAX_MESSAGES, MAX_STORED_FILE_BYTES } from './chat-history.ts';
export { INCOMPLETE_IDLE_MS, MAX_INCOMPLETE_PER_PEER, MAX_PENDING_BYTES_PER_PEER } from './chat-reassembly.ts';

/** Peer id → participant id remembered (peers that are gone may no longer be known to the link). */
const MAX_PEERS_REMEMBERED = 256;

export class ChatSession {
  private link: ChatLink;
  private readonly history: ChatHistory;
  private readonly reassembly: ChatReassembly;
  private readonly sender: ChatSender;
  private readonly delivery: ChatDelivery;
  private readonly receipts: ReceiptQueue;
  private readonly archive: ChatArchive | undefined;
  private readonly outbox: ChatOutbox;
  private readonly peers = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private unsubscribe: (() => void)[] = [];
  private current: ChatSnapshot = { messages: [], couldNotDecrypt: 0, dropped: 0, paused: false };
  private emitQueued = false;
  private closed = false;
  private readonly sweepTimer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param link    the connection (signalling, keys, our peer id, who is who)
   * @param roomId  the consultation id (bound into every chunk)
   * @param options limits, pacing, timers, and where the transcript is stored
   */
  constructor(link: ChatLink, roomId: string, options: ChatSessionOptions = {}) {
    this.link = link;
    const now = options.now ?? Date.now;
    this.history = new ChatHistory(
      {
        maxMessages: Math.min(options.maxMessages ?? MAX_MESSAGES, MAX_MESSAGES),
        maxStoredFileBytes: Math.min(options.maxStoredFileBytes ?? MAX_STORED_FILE_BYTES, MAX_STORED_FILE_BYTES),
      },
      options.objectUrls ?? { create: (b) => URL.createObjectURL(b), revoke: (u) => URL.revokeObjectURL(u) },
      { forgotten: (id) => this.forgotten(id), fileReleased: (id) => this.archive?.deleteFile(id) },
    );
    this.reassembly = new ChatReassembly(
      { roomId, keys: () => this.link.keys, selfId: () => this.link.selfId, participantOf: (peer) => this.participant(peer), now },
      {
        holding: (id) => this.holding(id),
        started: (s) => this.onStarted(s),
        progressed: (_from, id, progress) => this.updateMessage(id, { progress }),
        completed: (c) => this.onCompleted(c),
        failed: (_from, id) => this.onFailed(id),
        duplicate: (from, id) => {
          this.delivery.acknowledge(id, this.participant(from));
          this.receipts.add(id, from, true);
        },
      },
    );
    this.sender = new ChatSender(link, roomId, {
      pace: options.pace ?? { burst: 20, perSecond: 30 },
      retries: options.retries ?? 5,
      retryBaseMs: options.retryBaseMs ?? 200,
    });
    const r = options.redelivery ?? {};
    this.delivery = new ChatDelivery(
      { firstMs: r.firstMs ?? 5_000, maxMs: r.maxMs ?? 60_000, attempts: r.attempts ?? 6 },
      { redeliver: (id) => this.outbox.redeliver(id), changed: (id) => this.deliveryChanged(id) },
    );
    this.receipts = new ReceiptQueue((ids) => this.outbox.sendReceipt(ids), options.receiptDelayMs ?? 30, options.receiptRepeatMs, now);
    this.archive = options.transcript && new ChatArchive(options.transcript, () => collectTranscript(this.history, this.delivery));
    const common = { history: this.history, delivery: this.delivery, emit: () => this.emit(), closed: () => this.closed };
    this.outbox = new ChatOutbox({ ...common, sender: this.sender, archive: this.archive });
    this.listen(link);
    const every = options.sweepEveryMs ?? 5000;
    this.sweepTimer = every > 0 ? setInterval(() => this.sweep(), every) : undefined;
    const stored = this.archive?.load();
    if (stored) restoreTranscript(stored, { ...common, archive: this.archive!, outbox: this.outbox });
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): ChatSnapshot => this.current;

  /** Sends a text (≤ CHAT_MAX_TEXT characters). Resolves with its id once sent or failed (waits while paused). */
  async sendText(text: string): Promise<string> {
    if (this.closed) throw new ChatInputError('closed');
    const clean = cleanText(text).trim();
    if (!clean) throw new ChatInputError('empty');
    if (clean.length > CHAT_MAX_TEXT) throw new ChatInputError('too-long');
    const entry = this.history.add({ id: newId(), from: 'me', kind: 'text', text: clean, progress: 0, status: 'sending' });
    entry.text = clean;
    this.delivery.expect(entry.msg.id);
    this.archive?.saveNow();
    await this.outbox.transmit(entry, true);
    return entry.msg.id;
  }

  /** Sends a PDF or image (PNG, JPEG, GIF, WebP) up to 20 MiB. Resolves with its id once sent or failed (waits while paused). */
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
    this.delivery.expect(entry.msg.id);
    this.outbox.keepOwnFile(entry);
    await this.outbox.transmit(entry, true);
    return entry.msg.id;
  }

  /**
   * Sends one of our messages, or one we received, again under our current
   * key and with the same id: participants who have it ignore it (and
   * acknowledge it again), one who joined since (or could not decrypt it)
   * gets it. A message we received reaches them as sent by us.
   */
  async resend(messageId: string): Promise<void> {
    const entry = this.history.get(messageId);
    if (!entry || entry.busy || this.closed) return;
    const { msg } = entry;
    if (msg.from !== 'me' && msg.status !== 'received') return;
    if (msg.kind === 'file' && !entry.blob) {
      this.outbox.setSendState(entry, 0, 'failed', 'unavailable');
      return;
    }
    this.delivery.expect(messageId, msg.fromParticipant ? [msg.fromParticipant] : []);
    await this.outbox.transmit(entry, true);
  }

  /** Signalling dropped: sending waits; nothing fails, nothing is lost. */
  pause(): void {
    if (this.closed) return;
    this.sender.pause();
    this.emit();
  }

  /** Quick resume (same peer id, same keys): sending goes on; a chunk whose acknowledgement was lost is sent again. */
  resume(): void {
    if (this.closed) return;
    this.sender.resume();
    this.emit();
  }

  /**
   * Full rejoin: new socket, peer id and keys. Unfinished transmissions start
   * again from chunk 0 under the new current key (same message ids);
   * unfinished incoming ones are dropped (their senders send them again when
   * we are ready for them); nobody holds our key until peerReady().
   */
  rebind(link: ChatLink): void {
    if (this.closed) return;
    this.link = link;
    this.listen(link);
    this.reassembly.dropAll();
    this.delivery.noneReady();
    this.receipts.reset();
    this.sender.setLink(link);
    this.emit();
  }

  /** That peer now holds our current key: what its participant has not acknowledged goes to it again. */
  peerReady(peerId: string): void {
    if (this.closed) return;
    const p = this.participant(peerId);
    const isNew = this.delivery.ready(p, peerId);
    if (isNew === undefined) return;
    const key = isNew ? this.link.keys.sendKey() : undefined;
    if (key) this.delivery.owedToNewcomer(p, Number(key.kid), this.sender.generation);
    else if (!isNew) for (const id of this.delivery.dueFor(p)) this.outbox.redeliver(id);
    this.archive?.saveSoon();
  }

  /** That peer is gone. `final`: its participant left for good (no receipt expected); else it may come back under a new peer id. */
  peerGone(peerId: string, final: boolean): void {
    if (this.closed) return;
    if (this.reassembly.dropFrom(peerId, !final)) this.emit();
    this.delivery.gone(this.participant(peerId), peerId, final);
    this.archive?.saveSoon();
  }

  /** Stops everything and releases every object URL. `forget`: also erase the stored transcript (leave, consultation over). */
  close(opts: { forget?: boolean } = {}): void {
    if (this.closed) return;
    if (opts.forget) void this.archive?.erase();
    else this.archive?.saveNow();
    this.archive?.close();
    this.closed = true;
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    for (const u of this.unsubscribe.splice(0)) u();
    this.sender.close();
    this.receipts.close();
    this.delivery.close();
    this.reassembly.clear();
    this.history.clear();
    this.emit();
  }

  // ----------------------------------------------------------- receiving

  private listen(link: ChatLink): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.unsubscribe.push(link.signalling.on('chatChunk', (c) => this.receive(c)));
    this.unsubscribe.push(
      link.signalling.on('peerLeft', ({ peerId }) => {
        if (!this.closed && this.reassembly.dropFrom(peerId)) this.emit();
      }),
    );
  }

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

  private sentBy(from: string): Pick<ChatMessage, 'from' | 'fromParticipant' | 'fromName'> {
    const p = this.link.participantOf(from) ?? this.peers.get(from);
    const name = this.link.nameOf(from);
    return { from, ...(p !== undefined ? { fromParticipant: p } : {}), ...(name !== undefined ? { fromName: name } : {}) };
  }

  private onStarted({ from, id, meta, progress }: Started): void {
    if (meta.type === 'receipt') return;
    const base: ChatMessage = { id, ...this.sentBy(from), kind: meta.type, progress, status: 'receiving' };
    if (meta.type === 'file') base.file = { name: sanitizeFileName(meta.name, meta.mime), mime: meta.mime, size: meta.size };
    const known = this.history.get(id);
    if (known) known.msg = base; // a failed message, now re-sent: reuse its place
    else this.history.add(base);
  }

  private onCompleted(c: Completed): void {
    const p = this.participant(c.from);
    if (c.kind === 'receipt') {
      for (const id of c.ids) this.delivery.acknowledge(id, p);
      this.archive?.saveSoon();
      return;
    }
    this.delivery.acknowledge(c.id, p); // if we re-sent it ourselves, its sender needs it no more
    if (c.kind === 'text') {
      const msg: ChatMessage = { id: c.id, ...this.sentBy(c.from), kind: 'text', text: c.text, progress: 1, status: 'received' };
      const entry = this.history.get(c.id) ?? this.history.add(msg);
      entry.msg = msg;
      entry.text = c.text;
      this.receipts.add(c.id, c.from); // the transcript is saved just before the receipt goes
      return;
    }
    const { meta, blob } = c;
    const file = { name: sanitizeFileName(meta.name, meta.mime), mime: meta.mime, size: meta.size };
    const msg: ChatMessage = { id: c.id, ...this.sentBy(c.from), kind: 'file', file, progress: 1, status: 'received' };
    const entry = this.history.get(c.id) ?? this.history.add(msg);
    entry.msg = msg;
    const url = this.history.holdReceivedFile(entry, blob, meta.sha256);
    entry.msg = { ...entry.msg, file: { ...file, url } };
    if (!this.archive) return this.receipts.add(c.id, c.from);
    // Acknowledged once its bytes are stored: a prescription must not vanish on F5. (If storage
    // refuses them, still acknowledged: we hold them, and the sender cannot do better by sending again.)
    void this.archive.saveFile(c.id, blob).then(() => {
      if (!this.closed) this.receipts.add(c.id, c.from);
    });
  }

  private onFailed(id: string): void {
    const entry = this.history.get(id);
    if (entry && entry.msg.status === 'receiving') entry.msg = { ...entry.msg, status: 'failed' };
  }

  // ---------------------------------------------------- list and storage

  /** The stable participant behind a peer id (remembered, since a gone peer may be unknown to the link). */
  private participant(peerId: string): string {
    const p = this.link.participantOf(peerId) ?? this.peers.get(peerId) ?? `peer:${peerId}`;
    this.peers.delete(peerId);
    this.peers.set(peerId, p);
    if (this.peers.size > MAX_PEERS_REMEMBERED) this.peers.delete(this.peers.keys().next().value!);
    return p;
  }

  private updateMessage(id: string, change: Partial<ChatMessage>): void {
    const entry = this.history.get(id);
    if (entry) entry.msg = { ...entry.msg, ...change };
  }

  private deliveryChanged(id: string): void {
    const view = this.delivery.view(id);
    if (view) this.updateMessage(id, { delivery: view });
    const entry = this.history.get(id);
    // Our own file is kept in storage only while someone waits for it.
    if (entry?.msg.from === 'me' && entry.msg.kind === 'file' && view?.waitingFor.length === 0) this.archive?.deleteFile(id);
    this.emitSoon();
  }

  private forgotten(id: string): void {
    this.delivery.forget(id);
    this.archive?.deleteFile(id);
  }

  private emitSoon(): void {
    if (this.emitQueued) return;
    this.emitQueued = true;
    queueMicrotask(() => this.emitQueued && this.emit());
  }

  private emit(): void {
    this.emitQueued = false;
    this.current = {
      messages: this.history.messages(),
      couldNotDecrypt: this.reassembly.couldNotDecrypt,
      dropped: this.reassembly.dropped,
      paused: this.sender.isPaused,
    };
    for (const l of this.listeners) l();
  }
}
