// Our side of sending: puts a listed message on the wire (visibly, or in the
// background when it goes again for someone who missed it), keeps its status
// and progress, sends receipts, and keeps our own file's bytes stored while
// someone still waits for it.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { CHAT_CHUNK_BYTES, type ChatMeta } from '../../shared/protocol/chat.ts';
import type { ChatArchive } from './chat-archive.ts';
import type { ChatDelivery } from './chat-delivery.ts';
import type { ChatHistory, Entry } from './chat-history.ts';
import { readBytes } from './chat-input.ts';
import type { ChatSender } from './chat-sender.ts';
import type { ChatSendError } from './chat-types.ts';

/** What the outbox works with (owned by ChatSession). */
export interface OutboxParts {
  history: ChatHistory;
  sender: ChatSender;
  delivery: ChatDelivery;
  archive: ChatArchive | undefined;
  emit(): void;
  closed(): boolean;
}

export class ChatOutbox {
  constructor(private readonly parts: OutboxParts) {}

  /**
   * Transmits `entry` (our message, or one we received) under our current key.
   * `visible`: its status and progress show it (what the user asked for, or a
   * message not yet fully sent); otherwise it goes in the background. Asked
   * while a transmission of it is under way, it goes again right after if
   * someone ready still waits for it.
   */
  async transmit(entry: Entry, visible: boolean): Promise<void> {
    if (entry.busy) {
      entry.again = true; // someone became ready after this transmission started
      return;
    }
    const { id } = entry.msg;
    entry.busy = true;
    if (visible) this.setSendState(entry, 0, 'sending');
    const result = await this.parts.sender.send(
      { id, meta: () => this.metadata(entry), ...(entry.msg.kind === 'file' && entry.blob ? { blob: entry.blob } : {}) },
      {
        ...(visible ? { progress: (p: number) => this.setSendState(entry, p, p === 1 ? 'sent' : 'sending') } : {}),
        keyed: (kid, gen) => this.parts.delivery.keyed(id, kid, gen),
      },
    );
    entry.busy = false;
    if (this.parts.closed()) return;
    if (!result.ok && visible) {
      const progress = result.error === 'no-key' ? 0 : entry.msg.from === 'me' ? entry.msg.progress : (entry.msg.resend?.progress ?? 0);
      this.setSendState(entry, progress, 'failed', result.error);
    }
    this.parts.delivery.transmitted(id);
    this.parts.archive?.saveSoon();
    if (entry.again) {
      entry.again = false;
      if (this.parts.delivery.waitsForSomeoneReady(id)) this.redeliver(id);
    }
  }

  /** Sends `id` again for participants that still wait for it (in the background for what was sent already). */
  redeliver(id: string): void {
    const entry = this.parts.history.get(id);
    if (!entry || this.parts.closed()) return this.parts.delivery.forget(id);
    if (entry.msg.kind === 'file' && !entry.blob) return; // its bytes are gone (memory cap, or not stored before a reload)
    void this.transmit(entry, entry.msg.from === 'me' && entry.msg.status !== 'sent');
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

  setSendState(entry: Entry, progress: number, status: 'sending' | 'sent' | 'failed', error?: ChatSendError): void {
    if (this.parts.history.get(entry.msg.id) !== entry) return; // forgotten meanwhile
    const { msg } = entry;
    if (msg.from === 'me') {
      const { error: _old, ...rest } = msg;
      entry.msg = { ...rest, progress, status, ...(error ? { error } : {}) };
    } else {
      entry.msg = { ...msg, resend: { progress, status, ...(error ? { error } : {}) } };
    }
    this.parts.emit();
  }

  /** Sends one receipt; true if it went out. Waits while paused; never itself acknowledged. */
  async sendReceipt(ids: string[]): Promise<boolean> {
    this.parts.archive?.saveNow(); // what we acknowledge must survive a reload
    const result = await this.parts.sender.send({ id: newId(), meta: async () => ({ type: 'receipt', ids }) });
    return result.ok;
  }

  /** Our own file's bytes are stored while someone still waits for it (to send it again after a reload). */
  keepOwnFile(entry: Entry): void {
    const { archive } = this.parts;
    if (!archive) return;
    archive.saveNow();
    const { id } = entry.msg;
    const waiting = () => (this.parts.delivery.view(id)?.waitingFor.length ?? 0) > 0;
    if (!entry.blob || !waiting()) return;
    void archive.saveFile(id, entry.blob).then((ok) => {
      if (ok && !waiting()) archive.deleteFile(id); // acknowledged while it was being stored
    });
  }
}

/** A new message id: 16 random bytes, hex. */
export function newId(): string {
  return bytesToHex(randomBytes(16));
}
