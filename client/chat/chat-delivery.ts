// Who still needs which of the messages we sent (or re-sent): the bookkeeping
// behind "delivered exactly once".
//
// Participants are stable people (ChatLink.participantOf), not peer ids,
// which change when someone rejoins. Each message we transmit expects a
// receipt from every participant seen in this call that has not left for
// good; someone away (dropped, rejoining) stays expected. A participant is
// "ready" while one of its peers holds our current key (ChatLink →
// ChatSession.peerReady). Messages are sent again to a participant when it
// becomes ready, and then with bounded back-off while it stays ready and
// silent. Receipts end that.
//
// A participant seen for the first time is owed only what we sent under the
// key it was given on arrival (our current KID): older messages it could
// never read, by design (docs/protocol.md: newcomers read nothing older).
//
// No network, no crypto: the session transmits when told to (`redeliver`).

/** Participants remembered per call (people, not connections). */
export const MAX_PARTICIPANTS = 64;

export interface DeliveryOptions {
  /** First automatic re-send (ms) after a transmission nobody ready acknowledged. */
  firstMs: number;
  /** Longest back-off (ms). */
  maxMs: number;
  /** Automatic re-sends before waiting for the next peerReady of a participant it still waits for. */
  attempts: number;
}

export interface DeliveryHooks {
  /** Transmit message `id` again (it still waits for a ready participant). */
  redeliver(id: string): void;
  /** Who it waits for changed. */
  changed(id: string): void;
}

/** A participant as stored with the transcript. */
export interface StoredParticipant {
  id: string;
  left: boolean;
}

/** A message's delivery as stored with the transcript. */
export interface StoredDelivery {
  waiting: string[];
  acked: string[];
}

interface Participant {
  left: boolean;
  /** The peer id that holds our current key, if any. */
  readyPeer: string | undefined;
}

interface Tracked {
  waiting: Set<string>;
  acked: Set<string>;
  /** KID and link generation of its latest transmission. */
  kid?: number;
  gen?: number;
  attempts: number;
  timer?: ReturnType<typeof setTimeout>;
}

export class ChatDelivery {
  private readonly participants = new Map<string, Participant>();
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly options: DeliveryOptions,
    private readonly hooks: DeliveryHooks,
  ) {}

  /**
   * A peer of participant `p` now holds our current key. Returns whether `p`
   * is new to this call (never seen, or had left for good), or undefined if
   * there is no room to remember it.
   */
  ready(p: string, peerId: string): boolean | undefined {
    const known = this.participants.get(p);
    if (!known && this.participants.size >= MAX_PARTICIPANTS) return undefined;
    const isNew = !known || known.left;
    this.participants.set(p, { left: false, readyPeer: peerId });
    return isNew;
  }

  /**
   * Messages that wait for `p`, to send again now (it just became ready):
   * their back-off starts over.
   */
  dueFor(p: string): string[] {
    const ids: string[] = [];
    for (const [id, t] of this.tracked) {
      if (!t.waiting.has(p)) continue;
      this.clearTimer(t);
      t.attempts = 0;
      ids.push(id);
    }
    return ids;
  }

  /**
   * A newcomer is owed what we sent under the key it was given: messages
   * whose latest transmission used `kid` in link generation `gen`.
   */
  owedToNewcomer(p: string, kid: number, gen: number): void {
    for (const [id, t] of this.tracked) {
      if (t.kid !== kid || t.gen !== gen || t.acked.has(p) || t.waiting.has(p)) continue;
      t.waiting.add(p);
      this.schedule(id, t); // not at once: it may well have read them already
      this.hooks.changed(id);
    }
  }

  /**
   * Peer `peerId` of participant `p` is gone. `final`: `p` left for good, no
   * receipt is expected from it any more. Otherwise it stays expected.
   */
  gone(p: string, peerId: string, final: boolean): void {
    const known = this.participants.get(p);
    if (!known) return;
    // Only the peer that was ready speaks for the participant (an older peer id going away changes nothing).
    if (known.readyPeer !== undefined && known.readyPeer !== peerId) return;
    known.readyPeer = undefined;
    if (final) known.left = true;
    for (const [id, t] of this.tracked) {
      if (!t.waiting.has(p)) continue;
      if (final) {
        t.waiting.delete(p);
        this.hooks.changed(id);
      }
      if (!this.waitsForReady(t)) this.clearTimer(t);
    }
  }

  /** We rejoined with new keys: nobody holds our current key until peerReady says so. */
  noneReady(): void {
    for (const p of this.participants.values()) p.readyPeer = undefined;
    for (const t of this.tracked.values()) this.clearTimer(t);
  }

  /** Does participant `p` hold our current key? */
  isReady(p: string): boolean {
    return this.participants.get(p)?.readyPeer !== undefined;
  }

  /**
   * Message `id` is about to be transmitted (first time or again by hand):
   * it waits for every participant seen and not gone for good, except those
   * in `holders` (who have it) and those that acknowledged it already.
   */
  expect(id: string, holders: Iterable<string> = []): void {
    const t = this.tracked.get(id) ?? { waiting: new Set<string>(), acked: new Set<string>(), attempts: 0 };
    const skip = new Set(holders);
    for (const [p, info] of this.participants) {
      if (!info.left && !t.acked.has(p) && !skip.has(p)) t.waiting.add(p);
    }
    t.attempts = 0;
    this.tracked.set(id, t);
    this.hooks.changed(id);
  }

  /** Is `id` one we track? */
  has(id: string): boolean {
    return this.tracked.has(id);
  }

  /** A transmission of `id` began under `kid` in link generation `gen`. */
  keyed(id: string, kid: number, gen: number): void {
    const t = this.tracked.get(id);
    if (t) Object.assign(t, { kid, gen });
  }

  /** A transmission of `id` ended (sent or not): re-send later if a ready participant still waits. */
  transmitted(id: string): void {
    const t = this.tracked.get(id);
    if (t) this.schedule(id, t);
  }

  /** Does `id` wait for a participant that holds our current key (so a transmission now would reach it)? */
  waitsForSomeoneReady(id: string): boolean {
    const t = this.tracked.get(id);
    return t !== undefined && this.waitsForReady(t);
  }

  /** Participant `p` holds message `id` (its receipt, or it sent the message to us). */
  acknowledge(id: string, p: string): void {
    const t = this.tracked.get(id);
    if (!t || t.acked.has(p)) return;
    t.waiting.delete(p);
    t.acked.add(p);
    if (!this.waitsForReady(t)) this.clearTimer(t);
    this.hooks.changed(id);
  }

  /** What the UI shows: who it waits for, who acknowledged it. */
  view(id: string): { waitingFor: readonly string[]; acknowledgedBy: readonly string[] } | undefined {
    const t = this.tracked.get(id);
    return t && { waitingFor: [...t.waiting], acknowledgedBy: [...t.acked] };
  }

  /** Stops tracking `id` (forgotten from the list). */
  forget(id: string): void {
    const t = this.tracked.get(id);
    if (t) this.clearTimer(t);
    this.tracked.delete(id);
  }

  exportParticipants(): StoredParticipant[] {
    return [...this.participants].map(([id, p]) => ({ id, left: p.left }));
  }

  exportDelivery(id: string): StoredDelivery | undefined {
    const t = this.tracked.get(id);
    return t && { waiting: [...t.waiting], acked: [...t.acked] };
  }

  /** Restores what a reloaded page knew: participants (none ready yet) and per-message delivery. */
  restore(participants: readonly StoredParticipant[], deliveries: ReadonlyMap<string, StoredDelivery>): void {
    for (const p of participants.slice(0, MAX_PARTICIPANTS)) this.participants.set(p.id, { left: p.left, readyPeer: undefined });
    for (const [id, d] of deliveries) this.tracked.set(id, { waiting: new Set(d.waiting), acked: new Set(d.acked), attempts: 0 });
  }

  close(): void {
    for (const t of this.tracked.values()) this.clearTimer(t);
  }

  private waitsForReady(t: Tracked): boolean {
    for (const p of t.waiting) if (this.isReady(p)) return true;
    return false;
  }

  private schedule(id: string, t: Tracked): void {
    if (t.timer !== undefined || t.attempts >= this.options.attempts || !this.waitsForReady(t)) return;
    const delay = Math.min(this.options.firstMs * 2 ** t.attempts, this.options.maxMs);
    t.timer = setTimeout(() => {
      t.timer = undefined;
      if (this.tracked.get(id) !== t || !this.waitsForReady(t)) return;
      t.attempts++;
      this.hooks.redeliver(id);
    }, delay);
  }

  private clearTimer(t: Tracked): void {
    if (t.timer !== undefined) clearTimeout(t.timer);
    t.timer = undefined;
  }
}
