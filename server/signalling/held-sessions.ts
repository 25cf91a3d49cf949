// Participants whose signalling connection dropped, held for a grace period.
//
// socket.io's connection state recovery (server option
// `connectionStateRecovery`) gives a reconnecting client its old socket id
// back, with the notifications it missed, when it presents the private
// session id (`pid`) the server gave that connection: a random secret only
// that client ever saw. This registry maps that socket id to the participant
// (PeerSession) so the recovered connection binds back to it; nothing binds
// by peer id. When the grace period runs out first, `onExpire` runs (the
// participant leaves the room) and a later reconnection is a fresh session
// that must rejoin in full.

/** What a held participant must offer. */
export interface Holdable {
  /** The grace period is over: leave for good. */
  expire(): void;
}

export class HeldSessions<S extends Holdable> {
  private readonly held = new Map<string, { session: S; timer: ReturnType<typeof setTimeout> }>();

  /** `graceMs`: how long a dropped participant keeps its place (ms). */
  constructor(readonly graceMs: number) {}

  /** Holds `session` under `socketId` for the grace period. */
  hold(socketId: string, session: S): void {
    if (this.closed) return;
    this.release(socketId);
    const timer = setTimeout(() => {
      if (this.held.get(socketId)?.session !== session) return;
      this.held.delete(socketId);
      session.expire();
    }, this.graceMs);
    timer.unref?.();
    this.held.set(socketId, { session, timer });
  }

  /** The participant held under a recovered socket's id, no longer held (undefined once expired). */
  take(socketId: string): S | undefined {
    const entry = this.held.get(socketId);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.held.delete(socketId);
    return entry.session;
  }

  get size(): number {
    return this.held.size;
  }

  /** True once the server shuts down (clear()): nobody is held or released any more. */
  closed = false;

  /** Server shutdown: forget everyone held, without running their expiry. */
  clear(): void {
    this.closed = true;
    for (const { timer } of this.held.values()) clearTimeout(timer);
    this.held.clear();
  }

  private release(socketId: string): void {
    const entry = this.held.get(socketId);
    if (entry) clearTimeout(entry.timer);
    this.held.delete(socketId);
  }
}
