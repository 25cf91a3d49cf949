// The hosting node's side of the room registry (issue 16): a room this node
// opens is claimed in Redis, renewed while it lives, released when it closes.
// A claim lost to another live node (a conflict: two nodes asked for one
// room, before joins follow the registry's redirect), or a renewal refused
// (taken over while this node was frozen or cut off from Redis) is reported
// to the caller, which decides what to do with its local copy.
import type { ClusterRegistry } from './room-registry.ts';

export interface RoomHostingEvents {
  /** The room's entry now names another node (`owner`): this node no longer hosts it for the cluster. */
  onLost(roomId: string, owner: string | undefined): void;
  /** A Redis step failed (claim, renew, release); retried on the next renewal for renewals only. */
  onError(err: unknown): void;
}

/**
 * Keeps the registry entries of the rooms this node hosts. opened()/closed()
 * are called as rooms open and close (in any order, even before a claim
 * answered); start() renews every `registry.timings.renewEveryMs` in one
 * round trip; stop() stops and releases them all (a clean shutdown frees
 * its rooms for other nodes at once).
 */
export class RoomHosting {
  private readonly mine = new Set<string>();
  /** When ClusterPlacement put a room here (ms since the epoch), until its first renewal period is over. */
  private readonly placedAt = new Map<string, number>();
  /** Per room, the last Redis step still running: steps of one room run in order. */
  private readonly steps = new Map<string, Promise<void>>();
  private timer: ReturnType<typeof setInterval> | undefined;

  /**
   * `inUse(roomId)`: whether anything on this node still needs the room's
   * entry (its room, or patients in its waiting room); an entry nothing uses
   * is released at closed() and at the next renewal. Default: always in use.
   */
  constructor(
    private readonly registry: ClusterRegistry,
    private readonly events: RoomHostingEvents,
    private readonly inUse: (roomId: string) => boolean = () => true,
  ) {}

  /**
   * The registry just put `roomId` on this node (ClusterPlacement): keep its
   * entry renewed from now on, before its room opens (a patient who waits for
   * the doctor holds the consultation here too).
   */
  placedHere(roomId: string): void {
    this.mine.add(roomId);
    this.placedAt.set(roomId, Date.now());
  }

  /** In use, or placed here less than a renewal period ago (its room or waiting entry may be on its way). */
  private needed(roomId: string): boolean {
    const placed = this.placedAt.get(roomId);
    if (placed !== undefined && Date.now() - placed < this.registry.timings.renewEveryMs) return true;
    this.placedAt.delete(roomId);
    return this.inUse(roomId);
  }

  /** Whether this node holds `roomId`'s entry (as far as the last claim or renewal said). */
  hosts(roomId: string): boolean {
    return this.mine.has(roomId);
  }

  /** Room ids this node holds. */
  get rooms(): string[] {
    return [...this.mine];
  }

  /** A room opened here: claim it (reported through onLost if another live node has it). */
  opened(roomId: string): Promise<void> {
    return this.step(roomId, async () => {
      const owner = await this.registry.claim(roomId);
      if (owner === this.registry.self.id) this.mine.add(roomId);
      else this.events.onLost(roomId, owner);
    });
  }

  /** A room closed here: release its entry if ours and nothing else here uses it (patients still waiting keep it). */
  closed(roomId: string): Promise<void> {
    return this.step(roomId, async () => {
      if (this.needed(roomId) || !this.mine.delete(roomId)) return;
      await this.registry.release(roomId);
    });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.renew(), this.registry.timings.renewEveryMs);
    this.timer.unref();
  }

  /** Renews every room held now and in use (releasing the others); rooms whose entry names another node are dropped and reported. */
  async renew(): Promise<void> {
    // Placed here but never used (a waiting patient who left), or no longer: let go.
    const ids: string[] = [];
    for (const id of this.rooms) {
      if (this.needed(id)) ids.push(id);
      else void this.closed(id);
    }
    try {
      const lost = await this.registry.renewAll(ids);
      for (const id of lost) {
        if (!this.mine.has(id)) continue; // closed meanwhile
        // Refused because the entry is gone (this node was frozen past its TTL and a
        // peer reaped it, but nobody took the room): claim it back and go on. Only a
        // room another live node now holds is given up.
        const owner = await this.registry.claim(id).catch(() => undefined);
        if (owner === this.registry.self.id) continue;
        this.mine.delete(id);
        this.events.onLost(id, owner);
      }
    } catch (err) {
      this.events.onError(err);
    }
  }

  /** Stops renewing and releases every room held (best effort). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled(this.steps.values());
    const ids = this.rooms;
    this.mine.clear();
    await Promise.allSettled(ids.map((id) => this.registry.release(id)));
  }

  private step(roomId: string, run: () => Promise<void>): Promise<void> {
    const prev = this.steps.get(roomId) ?? Promise.resolve();
    const next = prev.then(run).catch((err: unknown) => this.events.onError(err));
    this.steps.set(roomId, next);
    void next.then(() => {
      if (this.steps.get(roomId) === next) this.steps.delete(roomId);
    });
    return next;
  }
}
