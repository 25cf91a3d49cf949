// What every signalling connection (PeerSession) works with.
import type { Logger } from 'pino';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import type { Consultations } from '../consultations/consultations.ts';
import type { SessionStore } from '../store/sessions.ts';
import type { Limits } from '../limits.ts';
import type { HeldSessions } from './held-sessions.ts';
import type { SharedBudgets } from './rate-limits.ts';
import type { PeerSession } from './peer-session.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { RoomPlacement } from '../cluster/room-placement.ts';

/**
 * Test-only: lets a test play a malicious relay by rewriting (or dropping,
 * with undefined) what the server sends to `to`. Only settable in code
 * (startConfide options), never from configuration.
 */
export type RelayTamper = (event: string, to: string, data: unknown) => unknown;

export interface SignallingDeps {
  rooms: RoomRegistry;
  consultations: Consultations;
  log: Logger;
  /** Where dropped participants wait for their connection to come back. */
  held: HeldSessions<PeerSession>;
  /** Staff sessions, read again on every request of a staff connection. */
  sessions: SessionStore;
  limits: Limits;
  /** Request budgets shared across connections (per account, consultation or address). */
  budgets: SharedBudgets;
  tamper?: RelayTamper;
  /** Where counts for operations go (decrypt-failure reports); none in tests that do not need them. */
  metrics?: Pick<Metrics, 'decryptFailuresReported'>;
  /** Several nodes: where a consultation's room is (here, or a redirect); none on one node. */
  placement?: RoomPlacement;
  /** Several nodes: staff tickets, redeemed at the handshake for the staff session they stand for (its token's hash). */
  tickets?: { redeem(ticket: unknown): Promise<string | undefined> };
}


/**
 * socket.io disconnect reasons after which the same client may come back
 * (socket.io's own RECOVERABLE_DISCONNECT_REASONS, minus server shutdown,
 * after which in-memory state is gone anyway).
 */
export const RECOVERABLE = new Set(['transport error', 'transport close', 'forced close', 'ping timeout']);
