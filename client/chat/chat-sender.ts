// Transmitting messages: seals chunk after chunk under one chat key (derived
// from our current media key when the message starts), waits for the
// server's acknowledgement of each (back-pressure), keeps under the server's
// request budget (pacing), retries what the server refused for load, and
// sends files one at a time.
//
// Across connection trouble: while paused, or when a request fails because
// the socket is down ('disconnected', 'not-joined'), a transmission waits and
// then sends the same chunk again (a quick resume keeps peer id and keys, and
// receivers ignore a chunk they already have). After setLink() (a full
// rejoin: new peer id, new keys) a transmission under way starts again from
// chunk 0 under the new current key, with the same message id. Neither ever
// fails a message.
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

/** Observers of one transmission. */
export interface SendHooks {
  /** Acknowledged chunks / total, after each chunk (back to 0 when it starts again after a rejoin). */
  progress?(p: number): void;
  /** The key it goes under: KID and the link generation (which changes at each setLink). */
  keyed?(kid: number, generation: number): void;
}

export type SendResult = { ok: true; kid: number; generation: number } | { ok: false; error: ChatSendError };

export interface SenderOptions {
  /** Token bucket for outgoing chunks, or false for none. */
  pace: { burst: number; perSecond: number } | false;
  /** Retries of a chunk refused as rate-limited or not acknowledged in time. */
  retries: number;
  /** First retry delay (ms), doubled each time. */
  retryBaseMs: number;
}

/** What the sender needs of the connection. */
export interface SenderLink {
  signalling: ChatSignalling;
  keys: ChatKeys;
  selfId: string;
}

/** Longest wait (ms) between tries while the socket seems down, in case resume() came before the failure. */
const MAX_DISCONNECTED_WAIT_MS = 5_000;

class Restart extends Error {}
class Closed extends Error {}

export class ChatSender {
  private fileLane: Promise<unknown> = Promise.resolve();
  private readonly pacer: TokenBucket | undefined;
  private closed = false;
  private paused = false;
  private gen = 0;
  /** Called (and cleared) by resume(), setLink() and close(). */
  private readonly wakers = new Set<() => void>();

  constructor(
    private link: SenderLink,
    private readonly roomId: string,
    private readonly options: SenderOptions,
  ) {
    this.pacer = options.pace ? new TokenBucket(options.pace.burst, options.pace.perSecond) : undefined;
  }

  /** Increases at each setLink(). */
  get generation(): number {
    return this.gen;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Signalling dropped: transmissions wait before their next chunk. */
  pause(): void {
    this.paused = true;
  }

  /** Same connection again (peer id and keys kept): transmissions go on where they were. */
  resume(): void {
    this.paused = false;
    this.wakeAll();
  }

  /** A new connection: transmissions under way start again from chunk 0 under its current key. */
  setLink(link: SenderLink): void {
    this.link = link;
    this.gen++;
    this.paused = false;
    this.wakeAll();
  }

  /**
   * Transmits `msg` whole. Files wait for the previous file (one unfinished
   * file at a time for receivers; texts are never stuck behind files).
   * Resolves with the outcome, never rejects: 'no-key' without a current
   * key, 'network' when the server refused a chunk for good or the sender
   * was closed.
   */
  send(msg: Outgoing, hooks: SendHooks = {}): Promise<SendResult> {
    if (!msg.blob) return this.run(msg, hooks);
    const done = this.fileLane.then(() => this.run(msg, hooks));
    this.fileLane = done;
    return done;
  }

  /** Later chunks are not sent; transmissions under way end as failed. */
  close(): void {
    this.closed = true;
    this.wakeAll();
  }

  private async run(msg: Outgoing, hooks: SendHooks): Promise<SendResult> {
    for (;;) {
      try {
        await this.gate(this.gen);
        return await this.attempt(msg, hooks);
      } catch (err) {
        if (err instanceof Restart) {
          hooks.progress?.(0);
          continue;
        }
        return { ok: false, error: 'network' };
      }
    }
  }

  /** One transmission under the current link; throws Restart when the link changes under it. */
  private async attempt(msg: Outgoing, hooks: SendHooks): Promise<SendResult> {
    const { id } = msg;
    const gen = this.gen;
    const link = this.link;
    const current = link.keys.sendKey();
    if (!current || current.kid < 0n || current.kid > 255n || current.key.length !== 32) return { ok: false, error: 'no-key' };
    const kid = Number(current.kid);
    const chatKey = deriveChatKey(current.key); // the whole message goes under this one key
    try {
      hooks.keyed?.(kid, gen);
      const meta = await msg.meta();
      const total = totalChunks(meta);
      const metaBytes = encodeChatMeta(meta);
      for (let index = 0; index < total; index++) {
        const blob = msg.blob!;
        const plain =
          index === 0 ? metaBytes : await readBytes(blob, (index - 1) * CHAT_CHUNK_BYTES, Math.min(index * CHAT_CHUNK_BYTES, blob.size));
        const box = sealChatChunk(chatKey, { roomId: this.roomId, from: link.selfId, kid, id, index, total }, plain);
        await this.sendChunk({ kid, id, index, total, box }, gen);
        hooks.progress?.((index + 1) / total);
      }
      return { ok: true, kid, generation: gen };
    } finally {
      chatKey.fill(0);
    }
  }

  private async sendChunk(payload: RequestOf<'chatChunk'>, gen: number): Promise<void> {
    let retries = 0;
    let waits = 0;
    for (;;) {
      await this.gate(gen);
      await this.pacer?.wait();
      await this.gate(gen);
      try {
        await this.link.signalling.request('chatChunk', payload);
        return;
      } catch (err) {
        if (this.closed) throw new Closed();
        if (gen !== this.gen) throw new Restart();
        const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
        if (code === 'disconnected' || code === 'not-joined' || this.paused) {
          // The socket is down (or we are not in the room yet): wait for resume()/setLink(),
          // and look again now and then in case it came before this failure. Never fails the message.
          await this.sleepOrWake(Math.min(this.options.retryBaseMs * 2 ** waits++, MAX_DISCONNECTED_WAIT_MS));
          continue;
        }
        // A retried chunk that did get through is a duplicate receivers ignore.
        if ((code !== 'rate-limited' && code !== 'timeout') || retries >= this.options.retries) throw err;
        await this.sleepOrWake(this.options.retryBaseMs * 2 ** retries++);
      }
    }
  }

  /** Waits while paused; throws when closed, or Restart when the link changed since `gen`. */
  private async gate(gen: number): Promise<void> {
    for (;;) {
      if (this.closed) throw new Closed();
      if (gen !== this.gen) throw new Restart();
      if (!this.paused) return;
      await new Promise<void>((resolve) => this.wakers.add(resolve));
    }
  }

  private sleepOrWake(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  private wakeAll(): void {
    const woken = [...this.wakers];
    this.wakers.clear();
    for (const w of woken) w();
  }
}
