// What the console and the doctor's dashboard show about a consultation,
// derived from the stored row, who is connected now and the time. Pure: no
// store, no clock. Definitions (also in docs/protocol.md, "Consultation status"):
//
//   ended        ended by the doctor or an admin (final)
//   in_progress  the patient has joined at some point and someone is connected now
//                (a participant who is reconnecting counts as connected)
//   waiting      a patient is in the waiting room
//   no_show      the patient never joined and NO_SHOW_AFTER_MS have passed since the scheduled time
//   expired      the patient had joined, everybody left, and the link's validity has passed
//   interrupted  the patient had joined, everybody left, no end, the link still works
//   scheduled    none of the above
//
// in that order of precedence. `endable` (the console's End button): not
// ended, and its links still work or someone is still there.
import type { ConsultationStatus, LiveStatus } from '../../shared/protocol/staff-api.ts';
import type { ConsultationStatus as StoredStatus } from '../store/consultations.ts';

/** The patient is a no-show this long (ms) after the scheduled time, if never joined: 30 min. */
export const NO_SHOW_AFTER_MS = 30 * 60 * 1000;

/** The stored facts the status is derived from (times in ms since the epoch). */
export interface StatusInput {
  status: StoredStatus;
  scheduledAt: number;
  /** The patient link's end of validity. */
  expiresAt: number;
  /** When the patient first joined. */
  startedAt?: number;
  endedAt?: number;
  /** When the room last became empty (cleared when someone joins). */
  emptiedAt?: number;
}

export interface ShownStatus {
  status: ConsultationStatus;
  endable: boolean;
  /**
   * The call's length (ms): from the patient's first join to now while
   * someone is connected, else to the end or to when the room emptied,
   * whichever came first. Undefined before the patient joined, or when the
   * call stopped without a trace (a server restart).
   */
  durationMs?: number;
}

/** The status, End-ability and duration to show for `c`, given who is there (`live`) and the time `now` (ms). */
export function consultationStatus(c: StatusInput, live: LiveStatus, now: number): ShownStatus {
  const connected = live.connected.length > 0;
  const started = c.startedAt !== undefined;
  const linksWork = now < c.expiresAt;
  const ended = c.status === 'ended';
  const endable = !ended && (linksWork || connected || live.waiting > 0);

  let status: ConsultationStatus;
  if (ended) status = 'ended';
  else if (connected && started) status = 'in_progress';
  else if (live.waiting > 0) status = 'waiting';
  else if (!started && now >= c.scheduledAt + NO_SHOW_AFTER_MS) status = 'no_show';
  else if (started && !linksWork) status = 'expired';
  else if (started) status = 'interrupted';
  else status = 'scheduled';

  const shown: ShownStatus = { status, endable };
  const duration = durationOf(c, connected && !ended, now);
  if (duration !== undefined) shown.durationMs = duration;
  return shown;
}

function durationOf(c: StatusInput, running: boolean, now: number): number | undefined {
  if (c.startedAt === undefined) return undefined;
  const stops = running ? [now] : [c.endedAt, c.emptiedAt].filter((t): t is number => t !== undefined);
  if (stops.length === 0) return undefined;
  return Math.max(0, Math.min(...stops) - c.startedAt);
}
