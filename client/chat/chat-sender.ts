// Transmitting messages: seals chunk after chunk under one chat key (derived
// from our current media key when the message starts), waits for the
// server's acknowledgement of each (back-pressure), keeps under the server's
// request budget (pacing), retries what the server refused for load, and
// sends files one at a time.
import { deriveChatKey, sealChatChunk } from '../../shared/crypto/chat-crypto.ts';
import { CHAT_CHUNK_BYTES, encodeChatMeta, totalChunks, type ChatMeta } from '../../shared/protocol/chat.ts';
import type { RequestOf } from '../../shared/protocol/signalling.ts';
import { TokenBucket } from '../../shared/util/token-bucket.ts';
import { readBytes } from './chat-input.ts';
import type { ChatKeys, ChatSendError, ChatSignalling } from './chat-types.ts';

/** One message to transmit. */
export interface Outgoing {
  id: string;
  /** Chunk 0's content; may hash the file (called once per transmission). */
  meta(): Promise<ChatMeta>;
  /** The file's bytes, for a file. */
  blob?: Blob;
}

export type SendResult = { ok: true } | { ok: false; error: ChatSendError };

export interface SenderOptions {
  /** Token bucket for outgoing chunks, or false for none. */
  pace: { burst: number; perSecond: number } | false;
  /** Retries of a chunk refused as rate-limited or not acknowledged in time. */
  retries: number;
  /** First retry delay (ms), doubled each time. */
  retryBaseMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ChatSender {
  private fileLane: Promise<unknown> = Promise.resolve();
  private readonly pacer: TokenBucket | undefined;
  private closed = false;

  constructor(
    private readonly link: { signalling: ChatSignalling; keys: ChatKeys; selfId: string },
    private readonly roomId: string,
    private readonly options: SenderOptions,
  ) {
    this.pacer = options.pace ? new TokenBucket(options.pace.burst, options.pace.perSecond) : undefined;
  }

  /**
   * Transmits `msg` whole; `progress(acknowledged chunks / total)` after each
   * chunk. Files wait for the previous file (one unfinished file at a time
   * for receivers; texts are never stuck behind files). Resolves with the
   * outcome, never rejects: 'no-key' without a current key, 'network' when
   * the server refused a chunk for good.
   */
  send(msg: Outgoing, progress: (p: number) => void): Promise<SendResult> {
    if (!msg.blob) return this.run(msg, progress);
    const done = this.fileLane.then(() => this.run(msg, progress));
    this.fileLane = done;
    return done;
  }

  /** Later chunks are not sent; transmissions under way end as failed. */
  close(): void {
    this.closed = true;
  }

  private async run(msg: Outgoing, progress: (p: number) => void): Promise<SendResult> {
    const { id } = msg;
    const current = this.link.keys.sendKey();
    if (!current || current.kid < 0n || current.kid > 255n || current.key.length !== 32) return { ok: false, error: 'no-key' };
    const kid = Number(current.kid);
    const chatKey = deriveChatKey(current.key); // the whole message goes under this one key
    try {
      const meta = await msg.meta();
      const total = totalChunks(meta);
      const metaBytes = encodeChatMeta(meta);
      for (let index = 0; index < total; index++) {
        if (this.closed) throw new Error('closed');
        const blob = msg.blob!;
        const plain =
          index === 0 ? metaBytes : await readBytes(blob, (index - 1) * CHAT_CHUNK_BYTES, Math.min(index * CHAT_CHUNK_BYTES, blob.size));
        const box = sealChatChunk(chatKey, { roomId: this.roomId, from: this.link.selfId, kid, id, index, total }, plain);
        await this.sendChunk({ kid, id, index, total, box });
        progress((index + 1) / total);
      }
      return { ok: true };
    } catch {
      return { ok: false, error: 'network' };
    } finally {
      chatKey.fill(0);
    }
  }

  private async sendChunk(payload: RequestOf<'chatChunk'>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await this.pacer?.wait();
      try {
        await this.link.signalling.request('chatChunk', payload);
        return;
      } catch (err) {
        const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
        // A retried chunk that did get through is a duplicate receivers ignore.
        if ((code !== 'rate-limited' && code !== 'timeout') || attempt >= this.options.retries || this.closed) throw err;
        await sleep(this.options.retryBaseMs * 2 ** attempt);
      }
    }
  }
}
