// The chat's public shapes: what it needs from the connection (signalling,
// keys) and what the UI reads (messages, snapshot). Types only.
import type { NotificationOf, RequestOf, ResponseOf } from '../../shared/protocol/signalling.ts';
import type { ChatMime } from '../../shared/protocol/chat.ts';
import type { ChatTranscriptStore } from './chat-transcript.ts';

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

/**
 * Everything the chat needs from the connection owner, for one connection.
 * A full rejoin (new socket, new peer id, new keys) hands over a new one
 * through ChatSession.rebind(); a quick resume keeps it.
 */
export interface ChatLink {
  /** request('chatChunk') + on('chatChunk' | 'peerLeft'). */
  signalling: ChatSignalling;
  keys: ChatKeys;
  /** Our current peer id. */
  selfId: string;
  /** Stable participant id of a peer (the same across that person's rejoins); undefined = unknown. */
  participantOf(peerId: string): string | undefined;
  /** Display name of a peer, kept with its messages after its peer id changes. */
  nameOf(peerId: string): string | undefined;
}

/** Object URL factory (URL.createObjectURL in browsers; a fake in tests). */
export interface ObjectUrls {
  create(blob: Blob): string;
  revoke(url: string): void;
}

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
  /** 'me' or the sender's peer id (at the time it sent it: peer ids change when someone rejoins). */
  from: string;
  /** The sender's stable participant id (received messages; absent when unknown). */
  fromParticipant?: string;
  /** The sender's display name when it sent it (received messages; absent when unknown). */
  fromName?: string;
  kind: 'text' | 'file';
  text?: string;
  file?: ChatFileInfo;
  /** sending: acknowledged chunks / total; receiving: received chunks / total. */
  progress: number;
  status: ChatStatus;
  error?: ChatSendError;
  /** Our re-sending of a message we received (our own messages use status/progress). */
  resend?: { progress: number; status: 'sending' | 'sent' | 'failed'; error?: ChatSendError };
  /**
   * Messages we sent or re-sent: participant ids whose receipt we still wait
   * for (sent again when they come back) and those that acknowledged it.
   */
  delivery?: { waitingFor: readonly string[]; acknowledgedBy: readonly string[] };
}

export interface ChatSnapshot {
  messages: readonly ChatMessage[];
  /** Messages that arrived but could not be decrypted (no key for them, or tampered with). */
  couldNotDecrypt: number;
  /** Messages dropped as malformed, over a limit or left unfinished. */
  dropped: number;
  /** Signalling is down: what is sent waits (nothing is lost). */
  paused: boolean;
}

export interface ChatSessionOptions {
  /** Clock for the idle timeout (tests). */
  now?: () => number;
  /** Object URL factory (tests, or environments without URL.createObjectURL). */
  objectUrls?: ObjectUrls;
  /**
   * Pacing of outgoing chunks. The server allows 100 requests in a burst and
   * 50/s per connection for everything; chat keeps to less so that key
   * agreement messages are never refused. `false`: no pacing (tests).
   */
  pace?: { burst: number; perSecond: number } | false;
  /** Retries of a chunk the server refused as rate-limited or did not acknowledge in time. */
  retries?: number;
  /** First retry delay (ms), doubled at each retry. */
  retryBaseMs?: number;
  /** How often unfinished messages are checked for the idle timeout, ms (0: only when chunks arrive). */
  sweepEveryMs?: number;
  /** Lower limits than MAX_MESSAGES / MAX_STORED_FILE_BYTES (tests). */
  maxMessages?: number;
  maxStoredFileBytes?: number;
  /**
   * Automatic re-sends of a message to participants that have not
   * acknowledged it while they are present: first after `firstMs`, doubling
   * up to `maxMs`, at most `attempts` times (counted again from zero when one
   * of them comes back). Defaults: 5 s, 60 s, 6.
   */
  redelivery?: { firstMs?: number; maxMs?: number; attempts?: number };
  /** Receipts wait this long (ms) to be batched. Default 30. */
  receiptDelayMs?: number;
  /** A message arriving again from the same peer is acknowledged again at most this often (ms). Default 2000. */
  receiptRepeatMs?: number;
  /** Where the transcript survives a reload of the tab (client/chat/chat-transcript-store.ts). None: memory only. */
  transcript?: ChatTranscriptStore;
}
