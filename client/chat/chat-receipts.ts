// Receipts we owe: ids of messages we hold, batched into few transmissions
// (≤ CHAT_RECEIPT_MAX_IDS ids each). Bounded: at most MAX_QUEUED ids wait
// (the oldest are dropped: their senders will send again and be answered
// then), and a message that keeps arriving again from the same peer is
// answered at most once per REPEAT_MS, so replays cannot make us flood the
// room. A re-send from another peer id (its sender rejoined), or after we
// rejoined (reset()), is answered at once: the earlier receipt may be lost.
import { CHAT_RECEIPT_MAX_IDS } from '../../shared/protocol/chat.ts';

export const MAX_QUEUED = 256;
/** A duplicate of the same message is answered at most this often (ms). */
export const REPEAT_MS = 2_000;
const MAX_REMEMBERED = 1_024;

export class ReceiptQueue {
  /** id → the peers whose transmission of it we answer. */
  private readonly queued = new Map<string, Set<string>>();
  /** `${peer}/${id}` → when we last answered that peer's transmission of it. */
  private readonly lastSent = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing = false;
  private closed = false;

  /**
   * @param send    transmits one receipt for `ids`; resolves when done (true if it went out)
   * @param delayMs  batching delay before a flush
   * @param repeatMs see REPEAT_MS
   * @param now      clock (ms)
   */
  constructor(
    private readonly send: (ids: string[]) => Promise<boolean>,
    private readonly delayMs: number,
    private readonly repeatMs = REPEAT_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Owes a receipt for message `id` sent by peer `from`. `repeat`: it arrived again (rate-limited per peer and id). */
  add(id: string, from: string, repeat = false): void {
    if (this.closed) return;
    const last = this.lastSent.get(`${from}/${id}`);
    if (repeat && last !== undefined && this.now() - last < this.repeatMs) return;
    const peers = this.queued.get(id) ?? new Set<string>();
    this.queued.delete(id);
    this.queued.set(id, peers.add(from));
    while (this.queued.size > MAX_QUEUED) this.queued.delete(this.queued.keys().next().value!);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.delayMs);
  }

  /** Ids waiting to be sent (tests, diagnostics). */
  get size(): number {
    return this.queued.size;
  }

  /** We rejoined: receipts sent before may not have arrived, so duplicates are answered at once again. */
  reset(): void {
    this.lastSent.clear();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.queued.clear();
  }

  private async flush(): Promise<void> {
    if (this.flushing) return; // the running flush picks up what was added meanwhile
    this.flushing = true;
    try {
      while (this.queued.size > 0 && !this.closed) {
        const batch = [...this.queued].slice(0, CHAT_RECEIPT_MAX_IDS);
        for (const [id] of batch) this.queued.delete(id);
        // Waits while the connection is down (the sender pauses); a receipt that cannot go is
        // not kept: the sender will send its message again and we answer then.
        const sent = await this.send(batch.map(([id]) => id));
        if (sent) for (const [id, peers] of batch) for (const peer of peers) this.remember(`${peer}/${id}`);
      }
    } finally {
      this.flushing = false;
    }
  }

  private remember(key: string): void {
    this.lastSent.delete(key);
    this.lastSent.set(key, this.now());
    while (this.lastSent.size > MAX_REMEMBERED) this.lastSent.delete(this.lastSent.keys().next().value!);
  }
}
