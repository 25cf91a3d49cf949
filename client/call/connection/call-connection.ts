/**
 * The connection owner of a call page (LiveKit's RTCEngine role, kept
 * small): it alone decides when to reconnect, and how, and publishes one
 * ConnectionSnapshot.
 *
 * - The socket drops → 'reconnecting/signalling', and it reconnects the same
 *   socket on the ReconnectPolicy's schedule (socket.io reconnection is off).
 * - The socket is back and socket.io recovered the session → 'resuming': the
 *   owner's resume() checks our place is still held and restarts ICE. Keys stay.
 * - Not recovered, or our place was gone → 'rejoining': the owner's rejoin()
 *   joins again as a new member (new peer id, new keys); a patient presents
 *   its rejoin credential instead of being admitted again.
 * - Media breaks while signalling is fine (ICE 'failed', or 'disconnected'
 *   for 2 s) → 'media': ICE restart; the SFU moved our room → rebuild media.
 * - A refusal of a rejoin decides by its error code (classifyFailure): try
 *   again later, go back to the waiting room, or stop ('lost', with a Rejoin
 *   button). A failed resume or media repair falls back to a rejoin instead
 *   (its 'not-found' is a transport a dead SFU worker took, not our place).
 * - A mediaReset during a recovery is kept and acted on once it is done.
 *
 * It never touches media, keys or the UI itself: ConsultationCall passes it
 * the Recovery actions.
 * @module
 */
import type { ConnectionEvent } from '../signalling-client.ts';
import type { MediaState } from '../media/media-transports.ts';
import { classifyFailure, defaultReconnectPolicy, type ReconnectPolicy } from './reconnect-policy.ts';
import { IDLE_CONNECTION, type ConnectionSnapshot, type ReconnectStep } from './connection-state.ts';

/** The part of SignallingClient the connection owner drives. */
export interface ConnectionPort {
  readonly connected: boolean;
  connect(): void;
  onConnection(listener: (e: ConnectionEvent) => void): () => void;
}

/** What the owner of the call does to recover (ConsultationCall). */
export interface Recovery {
  /** Our socket.io session was recovered: is our place still held? If so, restart ICE and resolve true. */
  resume(): Promise<boolean>;
  /** Join again as a new member (new peer id, new keys). Rejects with a RequestError. */
  rejoin(): Promise<void>;
  /** Signalling is fine but media is not: restart ICE ('ice'), or rebuild it after the room moved ('reset'). */
  repairMedia(kind: 'ice' | 'reset'): Promise<void>;
  /** A patient whose rejoin credential was refused must be admitted again. */
  readmit(): void;
}

export interface CallConnectionOptions {
  role: () => 'doctor' | 'patient';
  policy?: ReconnectPolicy;
  now?: () => number;
  /** ICE 'disconnected' for this long triggers an ICE restart (ms). */
  mediaDisconnectedMs?: number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (t: unknown) => void;
}

/** After giving up, how often the page still looks for the server (ms). */
export const LOST_PROBE_MS = 10_000;
/**
 * A fault that starts this soon after a recovery (ms) continues the previous
 * fault's back-off instead of starting over: a server that drops every
 * connection right after accepting it (crash loop, a proxy cutting sockets)
 * would otherwise get a full rejoin, with new keys for everyone, every
 * half second for ever.
 */
export const FLAP_WINDOW_MS = 10_000;

/** The `code` of a refusal (RequestError), or 'internal' for anything else thrown. */
export const errorCode = (err: unknown): string =>
  typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string'
    ? (err as { code: string }).code
    : 'internal';

export class CallConnection {
  private current: ConnectionSnapshot = IDLE_CONNECTION;
  private readonly listeners = new Set<() => void>();
  private readonly policy: ReconnectPolicy;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;
  private timer: unknown;
  private mediaTimer: unknown;
  private faultAt = 0;
  private recoveredAt: number | undefined;
  private attempt = 0;
  private running = false;
  /** A mediaReset came while a recovery ran: rebuild media once it is done (the old transports are gone). */
  private resetPending = false;
  private closed = false;
  private started = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly port: ConnectionPort,
    private readonly recovery: Recovery,
    private readonly opts: CallConnectionOptions,
  ) {
    this.policy = opts.policy ?? defaultReconnectPolicy();
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimeout ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
    this.unsubscribe = port.onConnection((e) => this.onEvent(e));
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  snapshot = (): ConnectionSnapshot => this.current;

  /** The first join succeeded: from now on, faults are recovered. */
  joined(): void {
    this.started = true;
    if (this.current.phase === 'connecting') this.set({ phase: 'connected' });
  }

  /** The combined state of our media transports changed. */
  mediaState(state: MediaState): void {
    if (this.mediaTimer !== undefined) this.clearTimer(this.mediaTimer);
    this.mediaTimer = undefined;
    if (!this.started || this.closed || this.current.phase !== 'connected' || !this.port.connected) return;
    if (state === 'failed') this.repair('ice');
    else if (state === 'disconnected') {
      // Often heals by itself within a second or two (a short loss); restart ICE if not.
      this.mediaTimer = this.setTimer(() => {
        this.mediaTimer = undefined;
        if (this.current.phase === 'connected') this.repair('ice');
      }, this.opts.mediaDisconnectedMs ?? 2000);
    }
  }

  /** The SFU moved our room to another worker: rebuild media (signalling and keys stay). */
  mediaReset(): void {
    if (this.closed) return;
    // socket.io hands a missed mediaReset over right after 'connect', while resume() runs: keep it for later.
    if (this.running) this.resetPending = true;
    else this.repair('reset');
  }

  /** The browser says the network is back: try at once rather than at the next scheduled attempt. */
  networkOnline(): void {
    if (this.current.phase !== 'reconnecting' || this.running || this.port.connected) return;
    this.cancelTimer();
    this.port.connect();
  }

  /** The user pressed Rejoin after the page gave up: start over. */
  retryNow(): void {
    if (this.closed) return;
    this.cancelTimer();
    this.beginFault(this.port.connected ? 'rejoining' : 'signalling', { fresh: true });
    if (this.port.connected) void this.recover(false);
    else this.port.connect();
  }

  close(): void {
    this.closed = true;
    this.cancelTimer();
    if (this.mediaTimer !== undefined) this.clearTimer(this.mediaTimer);
    this.unsubscribe();
  }

  private onEvent(e: ConnectionEvent): void {
    if (this.closed || !this.started) return;
    if (e.type === 'disconnect') {
      if (e.reason === 'io client disconnect') return; // we closed it (leave, end)
      if (this.current.phase !== 'reconnecting') this.beginFault('signalling');
      else this.set({ step: 'signalling' });
      this.schedule(() => this.port.connect());
    } else if (e.type === 'connect_error') {
      this.schedule(() => this.port.connect());
    } else {
      this.cancelTimer();
      if (this.current.phase !== 'reconnecting') this.beginFault('signalling');
      void this.recover(e.recovered);
    }
  }

  private async recover(recovered: boolean): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      if (recovered) {
        this.set({ step: 'resuming' });
        let resumed = false;
        try {
          resumed = await this.recovery.resume();
        } catch {
          // Lost the socket again: the disconnect handler has taken over. Otherwise our
          // place could not be resumed in place (e.g. 'not-found': the SFU worker died
          // meanwhile and took our transports): a full rejoin decides, not this refusal.
          if (this.closed || !this.port.connected) return;
        }
        if (resumed) return this.recovered('resumed');
      }
      this.set({ step: 'rejoining' });
      // A rejoin rebuilds media anyway.
      this.resetPending = false;
      await this.recovery.rejoin();
      this.recovered('rejoined');
    } catch (err) {
      this.failed(err, () => void this.recover(false));
    } finally {
      this.running = false;
      this.afterRecovery();
    }
  }

  /** Runs the mediaReset that arrived while a recovery ran, once we are connected again. */
  private afterRecovery(): void {
    if (!this.resetPending || this.closed || this.running) return;
    if (this.current.phase !== 'connected' || !this.port.connected) return;
    this.resetPending = false;
    this.repair('reset');
  }

  private repair(kind: 'ice' | 'reset'): void {
    if (this.running) return;
    this.running = true;
    if (this.current.phase !== 'reconnecting') this.beginFault('media');
    else this.set({ step: 'media' });
    if (kind === 'reset') this.resetPending = false;
    this.recovery
      .repairMedia(kind)
      .then(
        () => this.recovered(kind === 'reset' ? 'media' : 'resumed'),
        // Media could not be repaired in place: rejoin in full. Its error says nothing
        // about our place ('not-found' is a transport a dead worker took along), so the
        // rejoin's own answer decides whether to stop, not this one.
        (err: unknown) => this.failed(err, () => void this.recover(false), 'retry'),
      )
      .finally(() => {
        this.running = false;
        this.afterRecovery();
      });
  }

  /** `verdict` overrides classifyFailure (a media error is never a final refusal). */
  private failed(err: unknown, retry: () => void, verdict = classifyFailure(errorCode(err), this.opts.role())): void {
    if (this.closed) return;
    // Lost the socket meanwhile: the disconnect handler has taken over.
    if (!this.port.connected) return;
    if (verdict === 'final') return this.set({ phase: 'lost', step: undefined, lostReason: 'refused', lostCode: errorCode(err) });
    if (verdict === 'readmit') {
      this.set({ phase: 'lost', step: undefined, lostReason: 'refused', lostCode: 'unauthenticated' });
      return this.recovery.readmit();
    }
    this.schedule(retry);
  }

  private recovered(by: 'resumed' | 'rejoined' | 'media'): void {
    if (this.closed) return;
    const at = this.now();
    this.recoveredAt = at;
    this.set({
      phase: 'connected',
      step: undefined,
      attempt: 0,
      since: undefined,
      recoveredAt: at,
      recoveredBy: by,
      lastRecoveryMs: at - this.faultAt,
      lostReason: undefined,
      lostCode: undefined,
    });
  }

  /**
   * A new fault. Within FLAP_WINDOW_MS of the last recovery, or out of the
   * 'lost' state (a probe got through), it carries on the previous fault's
   * back-off; `fresh` (the user pressed Rejoin) starts over.
   */
  private beginFault(step: ReconnectStep, opts: { fresh?: boolean } = {}): void {
    const now = this.now();
    const flapping = this.recoveredAt !== undefined && now - this.recoveredAt < FLAP_WINDOW_MS;
    // A probe that reached the server after the page gave up continues the same outage.
    const continued = flapping || this.current.phase === 'lost';
    if (opts.fresh || !continued) {
      this.faultAt = now;
      this.attempt = 0;
    }
    this.set({ phase: 'reconnecting', step, attempt: this.attempt, since: this.faultAt, lostReason: undefined, lostCode: undefined });
  }

  /**
   * Runs `fn` after the policy's delay for the next attempt. Once the policy
   * gives up, the page says so (Rejoin button) but still probes every
   * LOST_PROBE_MS, so a server that comes back later is found without a click.
   */
  private schedule(fn: () => void): void {
    this.cancelTimer();
    const unreachable = this.current.phase === 'lost' && this.current.lostReason === 'unreachable';
    const delay = unreachable ? null : this.policy.nextDelayMs({ attempt: this.attempt, elapsedMs: this.now() - this.faultAt });
    if (delay === null) {
      if (!unreachable) this.set({ phase: 'lost', step: undefined, lostReason: 'unreachable', lostCode: undefined });
      this.timer = this.setTimer(() => {
        this.timer = undefined;
        if (!this.closed) fn();
      }, LOST_PROBE_MS);
      return;
    }
    this.attempt++;
    this.set({ attempt: this.attempt });
    this.timer = this.setTimer(() => {
      this.timer = undefined;
      if (!this.closed) fn();
    }, delay);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
  }

  private set(patch: Partial<ConnectionSnapshot>): void {
    this.current = { ...this.current, ...patch };
    for (const l of this.listeners) l();
  }
}
