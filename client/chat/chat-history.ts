// The list of messages a participant sees: their order, what each holds
// (text, file bytes, object URL), which ids were forgotten, and the memory
// caps (message count, bytes of received files). No network, no crypto.
import type { ChatMessage, ObjectUrls } from './chat-types.ts';

/** Oldest messages beyond these are forgotten (and their files released). */
export const MAX_MESSAGES = 500;
export const MAX_STORED_FILE_BYTES = 200 * 1024 * 1024;
/** Forgotten ids still recognised (so a replay is not shown again). */
export const MAX_RETIRED_IDS = 10_000;

/** One message and what we hold of it. */
export interface Entry {
  /** Replaced, never mutated, so snapshots stay stable. */
  msg: ChatMessage;
  text?: string;
  /** Our own file, or a received file once verified. */
  blob?: Blob;
  /** Hex SHA-256 of `blob`, once known. */
  sha256?: string;
  /** A transmission of it is under way. */
  busy: boolean;
  /** Asked to transmit it again while busy: do so when the current transmission ends. */
  again?: boolean;
}

/** Told when a message leaves the list, or its file is released. */
export interface HistoryHooks {
  forgotten?(id: string): void;
  fileReleased?(id: string): void;
}

export class ChatHistory {
  private readonly entries = new Map<string, Entry>();
  private order: string[] = [];
  private readonly retired = new Set<string>();
  private storedFileBytes = 0;

  /**
   * @param limits maxMessages (count) and maxStoredFileBytes (bytes of received files held)
   * @param urls   object URL factory for received files
   */
  constructor(
    private readonly limits: { maxMessages: number; maxStoredFileBytes: number },
    private readonly urls: ObjectUrls,
    private readonly hooks: HistoryHooks = {},
  ) {}

  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  /** Was this id listed once and forgotten to stay within maxMessages? */
  isRetired(id: string): boolean {
    return this.retired.has(id);
  }

  /** Forgotten ids, oldest first (to store). */
  retiredIds(): string[] {
    return [...this.retired];
  }

  /** Recognises these ids as forgotten (restored from a stored transcript). */
  retire(ids: readonly string[]): void {
    for (const id of ids) this.remember(id);
  }

  /** The messages, oldest first. */
  messages(): ChatMessage[] {
    return this.order.map((id) => this.entries.get(id)!.msg);
  }

  entriesInOrder(): Entry[] {
    return this.order.map((id) => this.entries.get(id)!);
  }

  /** Appends a message; forgets the oldest idle ones beyond maxMessages. */
  add(msg: ChatMessage): Entry {
    const entry: Entry = { msg, busy: false };
    this.entries.set(msg.id, entry);
    this.order.push(msg.id);
    while (this.order.length > this.limits.maxMessages) {
      const victim = this.order.find((id) => {
        const e = this.entries.get(id);
        return e && !e.busy && e.msg.status !== 'receiving';
      });
      if (!victim) break;
      this.remove(victim);
    }
    return entry;
  }

  /** Holds a verified received file: gives it an object URL, counts it, releases older files beyond the cap. */
  holdReceivedFile(entry: Entry, blob: Blob, sha256: string): string {
    const url = this.urls.create(blob);
    entry.blob = blob;
    entry.sha256 = sha256;
    this.storedFileBytes += blob.size;
    this.releaseOldFiles(entry.msg.id);
    return url;
  }

  /** Forgets everything and revokes every object URL. */
  clear(): void {
    for (const entry of this.entries.values()) {
      if (entry.msg.file?.url) this.urls.revoke(entry.msg.file.url);
      entry.blob = undefined;
    }
    this.entries.clear();
    this.order = [];
    this.storedFileBytes = 0;
  }

  private remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    if (e.msg.file?.url) this.urls.revoke(e.msg.file.url);
    if (e.msg.from !== 'me' && e.blob) this.storedFileBytes -= e.blob.size;
    this.entries.delete(id);
    this.order = this.order.filter((x) => x !== id);
    // Still recognised, so a replay of a forgotten message does not show it again.
    this.remember(id);
    this.hooks.forgotten?.(id);
  }

  private remember(id: string): void {
    this.retired.add(id);
    if (this.retired.size > MAX_RETIRED_IDS) {
      const oldest = this.retired.values().next().value;
      if (oldest !== undefined) this.retired.delete(oldest);
    }
  }

  /** Keeps received files within maxStoredFileBytes, releasing the oldest first (never `keep`). */
  private releaseOldFiles(keep: string): void {
    for (const id of this.order) {
      if (this.storedFileBytes <= this.limits.maxStoredFileBytes) return;
      const e = this.entries.get(id);
      if (id === keep) continue;
      if (!e || e.msg.from === 'me' || !e.blob || e.busy || !e.msg.file) continue;
      if (e.msg.file.url) this.urls.revoke(e.msg.file.url);
      this.storedFileBytes -= e.blob.size;
      e.blob = undefined;
      const { url: _url, ...file } = e.msg.file;
      e.msg = { ...e.msg, file: { ...file, expired: true } };
      this.hooks.fileReleased?.(id);
    }
  }
}
