/**
 * Keeps a waiting patient's place in the waiting room through connection
 * faults (issue 9): reconnects on the ReconnectPolicy's schedule and enters
 * again once connected. A fault lasts until an entry is accepted, so a
 * server that accepts the socket but refuses the entry with a passing code
 * ('rate-limited': too many entries with this link; 'internal'; 'timeout')
 * is asked again on the same back-off, never in a tight loop and never
 * silently given up on; after the policy's time limit it still looks every
 * LOST_PROBE_MS. 'forbidden', 'ended' and 'expired' stop it (onRefused).
 * @module
 */
import { defaultReconnectPolicy, type ReconnectPolicy } from './reconnect-policy.ts';
import { errorCode, LOST_PROBE_MS, type ConnectionPort } from './call-connection.ts';

/** Codes that end the wait for good: the link does not work any more. */
const FINAL = new Set(['forbidden', 'ended', 'expired']);

export interface WaitingRoomLinkOptions {
  policy?: ReconnectPolicy;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (t: unknown) => void;
}

export class WaitingRoomLink {
  private readonly policy: ReconnectPolicy;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;
  private timer: unknown;
  /** When the current fault began (ms), or undefined while our entry stands. */
  private faultAt: number | undefined;
  private attempt = 0;
  private closed = false;
  private readonly unsubscribe: () => void;

  /**
   * `enter`: asks the server for a place (enterWaitingRoom); rejects with a
   * RequestError. An 'already-joined' answer means our place was kept (a
   * recovered session). `onRefused`: a final refusal, with the error.
   */
  constructor(
    private readonly port: ConnectionPort,
    private readonly enter: () => Promise<unknown>,
    private readonly onRefused: (err: unknown) => void,
    opts: WaitingRoomLinkOptions = {},
  ) {
    this.policy = opts.policy ?? defaultReconnectPolicy();
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimeout ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
    this.unsubscribe = port.onConnection((e) => {
      if (this.closed) return;
      if (e.type === 'disconnect') {
        if (e.reason === 'io client disconnect') return; // we closed it
        this.beginFault();
        this.schedule();
      } else if (e.type === 'connect_error') this.schedule();
      else {
        this.cancelTimer();
        this.beginFault();
        void this.tryEnter();
      }
    });
  }

  /** The browser says the network is back: try at once. */
  networkOnline(): void {
    if (this.closed || this.faultAt === undefined || this.port.connected) return;
    this.cancelTimer();
    this.port.connect();
  }

  close(): void {
    this.closed = true;
    this.cancelTimer();
    this.unsubscribe();
  }

  private beginFault(): void {
    if (this.faultAt !== undefined) return;
    this.faultAt = this.now();
    this.attempt = 0;
  }

  private async tryEnter(): Promise<void> {
    try {
      await this.enter();
      this.faultAt = undefined;
    } catch (err) {
      if (this.closed) return;
      const code = errorCode(err);
      if (code === 'already-joined') {
        this.faultAt = undefined;
        return;
      }
      if (FINAL.has(code)) return this.onRefused(err);
      // Lost the socket meanwhile: its disconnect has scheduled the next try.
      if (this.port.connected) this.schedule();
    }
  }

  /** The next try after the policy's delay: enter again if still connected, else reconnect. */
  private schedule(): void {
    this.cancelTimer();
    const delay = this.policy.nextDelayMs({ attempt: this.attempt, elapsedMs: this.now() - (this.faultAt ?? this.now()) });
    if (delay !== null) this.attempt++;
    this.timer = this.setTimer(() => {
      this.timer = undefined;
      if (this.closed) return;
      if (this.port.connected) void this.tryEnter();
      else this.port.connect();
    }, delay ?? LOST_PROBE_MS);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
  }
}
