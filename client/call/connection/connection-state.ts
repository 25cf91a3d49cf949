/**
 * The one connection state a call page shows (issue 9): connected;
 * reconnecting, with what is happening; reconnected (for a moment after a
 * recovery); or lost, with why, and a Rejoin button.
 * @module
 */

/**
 * - 'signalling': the connection to the server dropped; trying to reach it again;
 * - 'resuming': reached it within the grace period; restarting media (ICE restart);
 * - 'rejoining': our place was gone (reload, grace period over, server restart): joining again, new keys;
 * - 'media': signalling is fine but media broke (ICE) or the SFU moved our room: rebuilding media.
 */
export type ReconnectStep = 'signalling' | 'resuming' | 'rejoining' | 'media';

/** Why the page stopped trying: the server stayed unreachable, or refused us for good. */
export type LostReason = 'unreachable' | 'refused';

export type ConnectionPhase = 'connecting' | 'connected' | 'reconnecting' | 'lost';

export interface ConnectionSnapshot {
  phase: ConnectionPhase;
  /** While reconnecting: what is happening. */
  step: ReconnectStep | undefined;
  /** While reconnecting: attempts made since the fault (0 before the first). */
  attempt: number;
  /** When the current fault began (ms since epoch), while reconnecting. */
  since: number | undefined;
  /** When the connection last came back from a fault (ms since epoch): show "reconnected" for a moment. */
  recoveredAt: number | undefined;
  /** How it came back the last time: kept the session ('resumed'), rejoined ('rejoined'), or rebuilt media ('media'). */
  recoveredBy: 'resumed' | 'rejoined' | 'media' | undefined;
  /** How long the last recovery took, from the fault to media flowing again (ms). */
  lastRecoveryMs: number | undefined;
  /** When lost: why, and the server's error code if it refused. */
  lostReason: LostReason | undefined;
  lostCode: string | undefined;
}

export const IDLE_CONNECTION: ConnectionSnapshot = {
  phase: 'connecting',
  step: undefined,
  attempt: 0,
  since: undefined,
  recoveredAt: undefined,
  recoveredBy: undefined,
  lastRecoveryMs: undefined,
  lostReason: undefined,
  lostCode: undefined,
};
