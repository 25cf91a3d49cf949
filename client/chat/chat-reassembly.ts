// Incoming chunks, which are hostile until proven otherwise: each must
// decrypt under a key the key agreement holds for its claimed sender and KID,
// metadata must parse and pass the allow-lists and limits, chunk sizes must
// add up, and a finished file must match its announced size, hash and type.
// Anything else is dropped and counted, never handed on. Memory held for
// unfinished messages is bounded per sender and unfinished messages time out.
//
// It keeps no message list: it asks its owner what it already holds and tells
// it what started, progressed, completed or failed, and which message it
// already holds arrived again, authentic (so the owner can acknowledge it
// again: its sender did not hear the first receipt).
//
// Transmissions are keyed by (sender peer id, message id). A message sent
// again from chunk 0 under another key, or by the same person under a new
// peer id after a rejoin, replaces an unfinished earlier transmission of it.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { deriveChatKey, openChatChunk } from '../../shared/crypto/chat-crypto.ts';
import { CHAT_CHUNK_BYTES, chunkLength, parseChatMeta, totalChunks, type ChatMeta } from '../../shared/protocol/chat.ts';
import type { NotificationOf } from '../../shared/protocol/signalling.ts';
import { cleanText, contentMatchesMime } from './chat-input.ts';
import type { ChatKeys } from './chat-types.ts';

/** An unfinished message is dropped after this long without a new chunk (ms). */
export const INCOMPLETE_IDLE_MS = 60_000;
/** Bytes held (or announced) for one sender's unfinished messages. */
export const MAX_PENDING_BYTES_PER_PEER = 25 * 1024 * 1024;
export const MAX_INCOMPLETE_PER_PEER = 4;
/** Failed transmissions remembered, so their remaining chunks are ignored quietly. */
const MAX_FAILED_REMEMBERED = 512;
/** Undecryptable message ids remembered, to take them off the count if they arrive intact later. */
const MAX_UNDECRYPTABLE_REMEMBERED = 512;

/** A message whose metadata checked out, while its file is still arriving. */
export interface Started {
  from: string;
  id: string;
  meta: ChatMeta;
  /** Received chunks / total. */
  progress: number;
}

/** A complete, verified message (or receipt). */
export type Completed =
  | { from: string; id: string; kind: 'text'; text: string }
  | { from: string; id: string; kind: 'file'; meta: Extract<ChatMeta, { type: 'file' }>; blob: Blob }
  | { from: string; id: string; kind: 'receipt'; ids: string[] };

/** What the owner of the message list hears. */
export interface ReassemblyOwner {
  /** What we hold of message `id`: 'have' (ignore it), 'retry' (it failed before: accept again), 'new'. */
  holding(id: string): 'new' | 'retry' | 'have';
  started(s: Started): void;
  progressed(from: string, id: string, progress: number): void;
  completed(c: Completed): void;
  /** A message that was `started` (shown) failed; others fail silently (only counted). */
  failed(from: string, id: string): void;
  /** Chunk 0 of a message we hold (holding() = 'have') arrived again, authentic, from `from`. */
  duplicate(from: string, id: string): void;
}

/** Where the keys and our identity come from (they change when the connection is rebuilt). */
export interface ReassemblyContext {
  roomId: string;
  keys(): ChatKeys;
  selfId(): string;
  /** Stable participant id of a peer, if known: limits are per person, and a rejoined person's transmission replaces its old one. */
  participantOf(peerId: string): string | undefined;
  now(): number;
}

/** An unfinished incoming transmission of one message by one sender. */
interface Incoming {
  key: string;
  from: string;
  /** The person behind `from` (participant id, else the peer id): limits apply per person. */
  sender: string;
  id: string;
  kid: number;
  total: number;
  chatKey: Uint8Array;
  chunks: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  meta: ChatMeta | undefined;
  lastAt: number;
  /** Reported to the owner once its metadata is verified. */
  shown: boolean;
}

export class ChatReassembly {
  private readonly incoming = new Map<string, Incoming>();
  /** Message id → the transmission currently receiving it. */
  private readonly incomingIds = new Map<string, string>();
  /** Transmissions that failed: their remaining chunks are ignored (until a new index 0). */
  private readonly failedKeys = new Set<string>();
  /** Ids counted in couldNotDecrypt. */
  private readonly undecryptable = new Set<string>();
  /** Messages that arrived but could not be decrypted (and have not arrived intact since). */
  couldNotDecrypt = 0;
  /** Messages dropped as malformed, over a limit or left unfinished. */
  dropped = 0;

  constructor(
    private readonly ctx: ReassemblyContext,
    private readonly owner: ReassemblyOwner,
  ) {}

  /** Takes one relayed chunk (already schema-validated). Throws only on a bug; the caller catches. */
  receive(c: NotificationOf<'chatChunk'>): void {
    const { from, kid, id, index, total } = c;
    if (from === this.ctx.selfId() || index >= total) return;
    const key = `${from}/${id}`;
    let inc = this.incoming.get(key);
    if (inc && index === 0 && (inc.kid !== kid || inc.total !== total)) {
      this.discard(inc); // sent again from the start under another key: that one replaces it
      inc = undefined;
    }
    if (!inc) {
      if (this.failedKeys.has(key)) {
        if (index !== 0) return; // the rest of a transmission that already failed
        this.failedKeys.delete(key); // a new transmission (a re-send)
      }
      if (this.owner.holding(id) === 'have') {
        if (index === 0) this.checkDuplicate(c);
        return;
      }
      const other = this.incoming.get(this.incomingIds.get(id) ?? '');
      if (other) {
        // Someone else is sending it to us already; unless it is the same person, rejoined and starting over.
        if (index !== 0 || other.sender !== this.senderOf(from)) return;
        this.discard(other);
      }
      const sender = this.senderOf(from);
      if ([...this.incoming.values()].filter((i) => i.sender === sender).length >= MAX_INCOMPLETE_PER_PEER) {
        this.dropped++;
        this.rememberFailed(key);
        return;
      }
      const baseKey = this.ctx.keys().receiveKey(from, BigInt(kid));
      if (!baseKey || baseKey.length !== 32) {
        this.countUndecryptable(id);
        this.rememberFailed(key);
        return;
      }
      inc = {
        key, from, sender, id, kid, total,
        chatKey: deriveChatKey(baseKey), // derived now: the key agreement may drop the base key meanwhile
        chunks: new Array<Uint8Array | undefined>(total).fill(undefined),
        received: 0, bytes: 0, meta: undefined, lastAt: this.ctx.now(), shown: false,
      };
      this.incoming.set(key, inc);
      this.incomingIds.set(id, key);
    } else {
      if (inc.kid !== kid || inc.total !== total) return this.fail(inc, 'dropped');
      if (inc.chunks[index]) return; // duplicate
    }
    this.accept(inc, c);
  }

  private accept(inc: Incoming, c: NotificationOf<'chatChunk'>): void {
    const { from, kid, id, index, total, box } = c;
    let plain: Uint8Array;
    try {
      plain = openChatChunk(inc.chatKey, { roomId: this.ctx.roomId, from, kid, id, index, total }, box);
    } catch {
      return this.fail(inc, 'undecryptable');
    }
    inc.lastAt = this.ctx.now();

    if (index === 0) {
      const meta = parseChatMeta(plain);
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
    if (this.pendingBytes(inc.sender) > MAX_PENDING_BYTES_PER_PEER) return this.fail(inc, 'dropped');

    if (inc.meta && !inc.shown && inc.received < total) {
      inc.shown = true;
      this.owner.started({ from, id, meta: inc.meta, progress: inc.received / total });
    }
    if (inc.received === total) this.complete(inc);
    else if (inc.shown) this.owner.progressed(from, id, inc.received / total);
  }

  /** Fails unfinished messages idle for INCOMPLETE_IDLE_MS. True if any did. */
  sweep(): boolean {
    const now = this.ctx.now();
    let changed = false;
    for (const inc of [...this.incoming.values()]) {
      if (now - inc.lastAt > INCOMPLETE_IDLE_MS) {
        this.fail(inc, 'dropped');
        changed = true;
      }
    }
    return changed;
  }

  /**
   * Fails the unfinished messages of a peer that is gone. True if there were
   * any. `quietly`: not counted as dropped (it is expected to send them
   * again under a new peer id), and the next transmission is accepted.
   */
  dropFrom(peerId: string, quietly = false): boolean {
    return this.dropWhere((inc) => inc.from === peerId, quietly);
  }

  /** Fails every unfinished message quietly: we rejoined, and missed chunks; they will be sent to us again. */
  dropAll(): boolean {
    return this.dropWhere(() => true, true);
  }

  /** Forgets everything unfinished and wipes its keys. */
  clear(): void {
    for (const inc of this.incoming.values()) inc.chatKey.fill(0);
    this.incoming.clear();
    this.incomingIds.clear();
  }

  private dropWhere(match: (inc: Incoming) => boolean, quietly: boolean): boolean {
    let changed = false;
    for (const inc of [...this.incoming.values()]) {
      if (!match(inc)) continue;
      changed = true;
      if (!quietly) this.fail(inc, 'dropped');
      else {
        this.discard(inc);
        if (inc.shown) this.owner.failed(inc.from, inc.id);
      }
    }
    return changed;
  }

  private senderOf(peerId: string): string {
    return this.ctx.participantOf(peerId) ?? `peer:${peerId}`;
  }

  /** Announced size (once known) or bytes held, whichever is larger, summed over a person's unfinished messages. */
  private pendingBytes(sender: string): number {
    let sum = 0;
    for (const i of this.incoming.values()) {
      if (i.sender === sender) sum += Math.max(i.bytes, i.meta?.type === 'file' ? i.meta.size : 0);
    }
    return sum;
  }

  /** Chunk 0 of a message we hold: tell the owner if it is authentic (never counted either way). */
  private checkDuplicate(c: NotificationOf<'chatChunk'>): void {
    const baseKey = this.ctx.keys().receiveKey(c.from, BigInt(c.kid));
    if (!baseKey || baseKey.length !== 32) return;
    const chatKey = deriveChatKey(baseKey);
    try {
      const plain = openChatChunk(chatKey, { roomId: this.ctx.roomId, from: c.from, kid: c.kid, id: c.id, index: 0, total: c.total }, c.box);
      const meta = parseChatMeta(plain);
      if (meta && meta.type !== 'receipt' && totalChunks(meta) === c.total) this.owner.duplicate(c.from, c.id);
    } catch {
      // not authentic: ignored
    } finally {
      chatKey.fill(0);
    }
  }

  private countUndecryptable(id: string): void {
    this.couldNotDecrypt++;
    this.undecryptable.delete(id);
    this.undecryptable.add(id);
    if (this.undecryptable.size > MAX_UNDECRYPTABLE_REMEMBERED) this.undecryptable.delete(this.undecryptable.values().next().value!);
  }

  /** A message we could not decrypt before arrived intact after all: it no longer counts. */
  private arrived(id: string): void {
    if (this.undecryptable.delete(id)) this.couldNotDecrypt = Math.max(0, this.couldNotDecrypt - 1);
  }

  private complete(inc: Incoming): void {
    const meta = inc.meta!;
    this.release(inc);
    const { from, id } = inc;
    if (meta.type === 'receipt') {
      this.arrived(id);
      this.owner.completed({ from, id, kind: 'receipt', ids: meta.ids });
      return;
    }
    if (meta.type === 'text') {
      const text = cleanText(meta.text).trim();
      if (!text) return void this.dropped++;
      this.arrived(id);
      this.owner.completed({ from, id, kind: 'text', text });
      return;
    }
    const parts = inc.chunks.slice(1) as Uint8Array[];
    const h = sha256.create();
    let size = 0;
    for (const p of parts) {
      h.update(p);
      size += p.length;
    }
    const ok = size === meta.size && bytesToHex(h.digest()) === meta.sha256 && parts[0] !== undefined && contentMatchesMime(parts[0], meta.mime);
    if (!ok) {
      this.dropped++;
      this.rememberFailed(inc.key);
      if (inc.shown) this.owner.failed(from, id);
      return;
    }
    this.arrived(id);
    this.owner.completed({ from, id, kind: 'file', meta, blob: new Blob(parts as BlobPart[], { type: meta.mime }) });
  }

  private fail(inc: Incoming, why: 'undecryptable' | 'dropped'): void {
    if (why === 'undecryptable') this.countUndecryptable(inc.id);
    else this.dropped++;
    this.release(inc);
    inc.chunks = [];
    this.rememberFailed(inc.key);
    if (inc.shown) this.owner.failed(inc.from, inc.id);
  }

  /** Forgets an unfinished transmission without counting it or remembering it as failed. */
  private discard(inc: Incoming): void {
    this.release(inc);
    inc.chunks = [];
  }

  private release(inc: Incoming): void {
    this.incoming.delete(inc.key);
    this.incomingIds.delete(inc.id);
    inc.chatKey.fill(0);
  }

  /** Remembers a failed transmission so its remaining chunks are ignored quietly. */
  private rememberFailed(key: string): void {
    this.failedKeys.add(key);
    if (this.failedKeys.size > MAX_FAILED_REMEMBERED) {
      const oldest = this.failedKeys.values().next().value;
      if (oldest !== undefined) this.failedKeys.delete(oldest);
    }
  }
}
