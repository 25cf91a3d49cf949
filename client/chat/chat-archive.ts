// The session's side of the stored transcript: what of each message is kept
// (chat-transcript.ts), when it is written (soon after a change; at once
// before a receipt goes out, so what we acknowledged survives a reload), and
// which files have their bytes stored. Store failures are logged (without
// content) and never break the chat.
import type { Entry } from './chat-history.ts';
import type { ChatTranscriptStore, StoredMessage, StoredTranscript } from './chat-transcript.ts';
import type { ChatMessage } from './chat-types.ts';

/** The page, where there is one (not in a Worker or in Node). */
const page = (globalThis as { window?: Pick<Window, 'addEventListener' | 'removeEventListener'> }).window;

/** Changes are written this long after the first one (ms), batched. */
export const SAVE_DELAY_MS = 300;

export class ChatArchive {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private erased = false;
  /** Message ids whose file bytes we stored or read back (so deleting them is worth a request). */
  private readonly files = new Set<string>();
  private readonly onPageHide = () => this.saveNow();

  /**
   * @param store   where it goes
   * @param collect the transcript as it is now
   */
  constructor(
    private readonly store: ChatTranscriptStore,
    private readonly collect: () => StoredTranscript,
  ) {
    // A reload may come before a batched write: write when the page goes away.
    page?.addEventListener?.('pagehide', this.onPageHide);
  }

  /** The stored transcript, or undefined (none, tampered with, or not ours: never throws). */
  load(): StoredTranscript | undefined {
    try {
      return this.store.load();
    } catch (err) {
      console.warn('chat: stored transcript unreadable', errorName(err));
      return undefined;
    }
  }

  /** Writes the transcript now (before a receipt, or when closing). */
  saveNow(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    try {
      if (!this.store.save(this.collect())) console.warn('chat: transcript not stored (storage full)');
    } catch (err) {
      console.warn('chat: transcript not stored', errorName(err));
    }
  }

  /** Writes the transcript shortly (changes batched). */
  saveSoon(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = setTimeout(() => this.saveNow(), SAVE_DELAY_MS);
  }

  /** Stores a file's bytes; true once they are stored. */
  async saveFile(id: string, blob: Blob): Promise<boolean> {
    if (this.closed) return false;
    try {
      const ok = await this.store.saveFile(id, new Uint8Array(await blob.arrayBuffer()));
      if (ok && this.erased) await this.store.deleteFile(id); // erased while it was being written
      else if (ok) this.files.add(id);
      return ok;
    } catch (err) {
      console.warn('chat: file not stored', errorName(err));
      return false;
    }
  }

  /** A stored file's bytes as a Blob of type `mime`, if they are there and open. */
  async loadFile(id: string, mime: string): Promise<Blob | undefined> {
    try {
      const bytes = await this.store.loadFile(id);
      if (!bytes) return undefined;
      this.files.add(id);
      return new Blob([bytes as BlobPart], { type: mime });
    } catch (err) {
      console.warn('chat: stored file unreadable', errorName(err));
      return undefined;
    }
  }

  deleteFile(id: string): void {
    if (!this.files.delete(id) || this.closed) return;
    this.store.deleteFile(id).catch((err: unknown) => console.warn('chat: stored file not deleted', errorName(err)));
  }

  /** Erases the transcript and files (leave, consultation over); later writes are refused. */
  async erase(): Promise<void> {
    this.close();
    this.erased = true;
    this.files.clear();
    try {
      await this.store.erase();
    } catch (err) {
      console.warn('chat: transcript not erased', errorName(err));
    }
  }

  /** No more writes. */
  close(): void {
    page?.removeEventListener?.('pagehide', this.onPageHide);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.closed = true;
  }
}

/** What is kept of a listed message; undefined for what is not (unfinished or failed receptions). */
export function storedMessage(entry: Entry, delivery: StoredMessage['delivery']): StoredMessage | undefined {
  const m = entry.msg;
  const mine = m.from === 'me';
  if (!mine && m.status !== 'received') return undefined;
  const status = mine ? (m.status === 'sent' || m.status === 'failed' ? m.status : 'sending') : 'received';
  return {
    id: m.id,
    from: m.from,
    ...(m.fromParticipant !== undefined ? { fromParticipant: m.fromParticipant } : {}),
    ...(m.fromName !== undefined ? { fromName: m.fromName } : {}),
    kind: m.kind,
    ...(m.kind === 'text' ? { text: entry.text ?? m.text ?? '' } : {}),
    ...(m.file
      ? { file: { name: m.file.name, mime: m.file.mime, size: m.file.size, ...(entry.sha256 ? { sha256: entry.sha256 } : {}) } }
      : {}),
    status,
    ...(mine && m.error ? { error: m.error } : {}),
    ...(delivery ? { delivery } : {}),
  };
}

/** The listed message for a stored one (files without their bytes yet: they are read back from the store). */
export function restoredMessage(s: StoredMessage): ChatMessage {
  return {
    id: s.id,
    from: s.from,
    ...(s.fromParticipant !== undefined ? { fromParticipant: s.fromParticipant } : {}),
    ...(s.fromName !== undefined ? { fromName: s.fromName } : {}),
    kind: s.kind,
    ...(s.text !== undefined ? { text: s.text } : {}),
    ...(s.file ? { file: { name: s.file.name, mime: s.file.mime, size: s.file.size } } : {}),
    progress: s.status === 'sending' ? 0 : 1,
    status: s.status,
    ...(s.error ? { error: s.error } : {}),
  };
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}
