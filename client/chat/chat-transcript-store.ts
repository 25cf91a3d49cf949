// The browser's ChatTranscriptStore: a consultation's transcript sealed in
// sessionStorage, its files sealed in IndexedDB, all under a random key that
// lives in sessionStorage too, i.e. exactly as long as the tab
// (shared/crypto/transcript-crypto.ts). A reload finds them; a closed tab
// leaves only records nobody can open, which the next page to open a store
// deletes (tabs that are still open hold a Web Lock named after their key's
// tag, so their records are kept).
//
// Reads fail closed: a transcript or file that is missing, altered, from
// another consultation or sealed under another key reads as nothing.
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import {
  TAB_KEY_BYTES,
  openStoredFile,
  openTranscript,
  sealStoredFile,
  sealTranscript,
  tabKeyTag,
  transcriptKey,
} from '../../shared/crypto/transcript-crypto.ts';
import { MAX_STORED_RETIRED_IDS, StoredTranscript, type ChatTranscriptStore } from './chat-transcript.ts';

/** sessionStorage item holding the tab key (hex). */
export const TAB_KEY_ITEM = 'confide.chat.tabKey';
/** sessionStorage item of a consultation's sealed transcript (base64). */
export const transcriptItem = (roomId: string) => `confide.chat.transcript.${roomId}`;
const DB_NAME = 'confide-chat';
const FILES = 'files';
const LOCK_PREFIX = 'confide-chat-tab-';
/** Records of a key are deleted only if no open tab held it at two looks this far apart (ms). */
export const GC_CONFIRM_MS = 30_000;

/** Where things go; each defaults to the browser's, and tests pass fakes. */
export interface TranscriptBackends {
  /** Per-tab storage: sessionStorage. */
  session: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** For file bytes; undefined: files are not stored (they are then unavailable after a reload). */
  indexedDB: IDBFactory | undefined;
  /** Keeps our key's tag marked as live for the tab's life (a Web Lock). */
  holdTag(tag: string): void;
  /** Tags of the keys of open tabs; undefined: we cannot tell, so nobody else's records are deleted. */
  liveTags: (() => Promise<Set<string>>) | undefined;
}

export class BrowserTranscriptStore implements ChatTranscriptStore {
  private readonly key: Uint8Array;
  private readonly tag: string;
  private readonly backends: TranscriptBackends;
  private db: Promise<IDBDatabase | undefined> | undefined;

  /**
   * @param roomId    the consultation (one transcript each)
   * @param backends  storage to use instead of the browser's (tests)
   * @param gcConfirmMs see GC_CONFIRM_MS; negative: no garbage collection
   */
  constructor(
    private readonly roomId: string,
    backends: Partial<TranscriptBackends> = {},
    gcConfirmMs = GC_CONFIRM_MS,
  ) {
    this.backends = { ...browserBackends(), ...backends };
    const tabKey = this.tabKey();
    this.key = transcriptKey(tabKey, roomId);
    this.tag = tabKeyTag(tabKey);
    tabKey.fill(0);
    this.backends.holdTag(this.tag);
    if (gcConfirmMs >= 0) void this.collectGarbage(gcConfirmMs).catch(() => undefined);
  }

  load(): StoredTranscript | undefined {
    const item = transcriptItem(this.roomId);
    const raw = this.backends.session.getItem(item);
    if (raw === null) return undefined;
    try {
      const plain = openTranscript(this.key, this.roomId, fromBase64(raw));
      const parsed = StoredTranscript.safeParse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain)));
      if (parsed.success) return parsed.data;
    } catch {
      // altered, or sealed under a key this tab no longer has
    }
    this.backends.session.removeItem(item); // nobody can use it
    return undefined;
  }

  /** True if stored whole; false if not stored, or only its newer part (sessionStorage full). */
  save(transcript: StoredTranscript): boolean {
    // sessionStorage holds ~5 MB: if it does not fit, the oldest messages go first (their ids stay known).
    let t = transcript;
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        const box = sealTranscript(this.key, this.roomId, new TextEncoder().encode(JSON.stringify(t)));
        this.backends.session.setItem(transcriptItem(this.roomId), toBase64(box));
        return attempt === 0;
      } catch (err) {
        if (!isQuotaError(err) || t.messages.length === 0) return false;
        const cut = Math.ceil(t.messages.length / 2);
        const retired = [...t.retired, ...t.messages.slice(0, cut).map((m) => m.id)].slice(-MAX_STORED_RETIRED_IDS);
        t = { ...t, messages: t.messages.slice(cut), retired };
      }
    }
    return false;
  }

  async saveFile(messageId: string, bytes: Uint8Array): Promise<boolean> {
    const db = await this.database();
    if (!db) return false;
    const box = sealStoredFile(this.key, this.roomId, messageId, bytes);
    await request(db.transaction(FILES, 'readwrite').objectStore(FILES).put({ box }, this.fileKey(messageId)));
    return true;
  }

  async loadFile(messageId: string): Promise<Uint8Array | undefined> {
    const db = await this.database();
    if (!db) return undefined;
    const record: unknown = await request(db.transaction(FILES, 'readonly').objectStore(FILES).get(this.fileKey(messageId)));
    const box = (record as { box?: unknown } | undefined)?.box;
    if (!(box instanceof Uint8Array)) return undefined;
    try {
      return openStoredFile(this.key, this.roomId, messageId, box);
    } catch {
      return undefined;
    }
  }

  async deleteFile(messageId: string): Promise<void> {
    const db = await this.database();
    if (db) await request(db.transaction(FILES, 'readwrite').objectStore(FILES).delete(this.fileKey(messageId)));
  }

  async erase(): Promise<void> {
    this.backends.session.removeItem(transcriptItem(this.roomId));
    const db = await this.database();
    if (!db) return;
    const prefix = this.fileKey('');
    const keys = await request(db.transaction(FILES, 'readonly').objectStore(FILES).getAllKeys());
    const store = db.transaction(FILES, 'readwrite').objectStore(FILES);
    await Promise.all(keys.filter((k) => typeof k === 'string' && k.startsWith(prefix)).map((k) => request(store.delete(k))));
  }

  /** `${tag}:${roomId}:${messageId}`: one tab key's records share a prefix. */
  private fileKey(messageId: string): string {
    return `${this.tag}:${this.roomId}:${messageId}`;
  }

  /** This tab's key: read from sessionStorage, or drawn now and kept there (if it cannot be kept, nothing survives a reload). */
  private tabKey(): Uint8Array {
    const { session } = this.backends;
    try {
      const hex = session.getItem(TAB_KEY_ITEM);
      if (hex && /^[0-9a-f]{64}$/.test(hex)) return hexToBytes(hex);
    } catch {
      // storage disabled: a key for this page only
    }
    const key = randomBytes(TAB_KEY_BYTES);
    try {
      session.setItem(TAB_KEY_ITEM, bytesToHex(key));
    } catch {
      // as above
    }
    return key;
  }

  private database(): Promise<IDBDatabase | undefined> {
    const factory = this.backends.indexedDB;
    this.db ??= factory
      ? new Promise<IDBDatabase | undefined>((resolve) => {
          const open = factory.open(DB_NAME, 1);
          open.onupgradeneeded = () => open.result.createObjectStore(FILES);
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => resolve(undefined); // private mode, disabled storage: files are just not kept
          open.onblocked = () => resolve(undefined);
        })
      : Promise.resolve(undefined);
    return this.db;
  }

  /** Deletes file records whose key no open tab holds (looked at twice, `confirmMs` apart). */
  private async collectGarbage(confirmMs: number): Promise<void> {
    const { liveTags } = this.backends;
    const db = await this.database();
    if (!db || !liveTags) return;
    const orphans = async () => {
      const live = await liveTags();
      const keys = await request(db.transaction(FILES, 'readonly').objectStore(FILES).getAllKeys());
      return new Set(keys.filter((k): k is string => typeof k === 'string' && !live.has(k.split(':')[0]!) && !k.startsWith(`${this.tag}:`)));
    };
    const first = await orphans();
    if (first.size === 0) return;
    await new Promise((r) => setTimeout(r, confirmMs));
    const second = await orphans();
    const store = db.transaction(FILES, 'readwrite').objectStore(FILES);
    await Promise.all([...first].filter((k) => second.has(k)).map((k) => request(store.delete(k))));
  }
}

/** The browser's storage, where it exists (sessionStorage, IndexedDB, Web Locks). */
function browserBackends(): TranscriptBackends {
  const g = globalThis as { sessionStorage?: Storage; indexedDB?: IDBFactory; navigator?: { locks?: LockManager } };
  const locks = g.navigator?.locks;
  return {
    session: tryGet(() => g.sessionStorage) ?? memoryStorage(),
    indexedDB: tryGet(() => g.indexedDB),
    holdTag: (tag) => void locks?.request(LOCK_PREFIX + tag, () => new Promise<void>(() => undefined)).catch(() => undefined),
    liveTags: locks
      ? async () => {
          const { held = [] } = await locks.query();
          return new Set(held.flatMap((l) => (l.name?.startsWith(LOCK_PREFIX) ? [l.name.slice(LOCK_PREFIX.length)] : [])));
        }
      : undefined,
  };
}

/** A Storage that lives in memory (no sessionStorage: nothing survives a reload). */
export function memoryStorage(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> {
  const items = new Map<string, string>();
  return {
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, String(v)),
    removeItem: (k) => void items.delete(k),
  };
}

/** Reading sessionStorage or indexedDB throws where storage is disabled (sandboxed frames, some privacy settings). */
function tryGet<T>(get: () => T | undefined): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function isQuotaError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'QuotaExceededError' || err.name === 'NS_ERROR_DOM_QUOTA_REACHED');
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
