// The console's status and duration, derived from the stored row, live
// presence and the time (server/consultations/consultation-status.ts).
import { describe, expect, it } from 'vitest';
import { consultationStatus, NO_SHOW_AFTER_MS, type StatusInput } from '../../server/consultations/consultation-status.ts';
import type { LiveStatus } from '../../shared/protocol/staff-api.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 2, 3, 13, 30); // scheduled time
const row = (o: Partial<StatusInput> = {}): StatusInput => ({ status: 'scheduled', scheduledAt: T0, expiresAt: T0 + 24 * HOUR, ...o });
const nobody: LiveStatus = { connected: [], waiting: 0 };
const doctorIn: LiveStatus = { connected: [{ role: 'doctor', name: 'Dr Martin' }], waiting: 0 };
const both: LiveStatus = { connected: [{ role: 'doctor', name: 'Dr Martin' }, { role: 'patient', name: 'Camille' }], waiting: 0 };

describe('consultationStatus', () => {
  it('scheduled before the time and until the no-show grace has passed; End available', () => {
    expect(consultationStatus(row(), nobody, T0 - HOUR)).toEqual({ status: 'scheduled', endable: true });
    expect(consultationStatus(row(), nobody, T0 + NO_SHOW_AFTER_MS - 1).status).toBe('scheduled');
    // A doctor alone in the room has not started the call.
    expect(consultationStatus(row(), doctorIn, T0).status).toBe('scheduled');
  });

  it('waiting while a patient is in the waiting room, whatever the stored status says', () => {
    expect(consultationStatus(row({ status: 'waiting' }), { connected: [], waiting: 1 }, T0).status).toBe('waiting');
    // The stored 'waiting' is sticky; the patient has gone.
    expect(consultationStatus(row({ status: 'waiting' }), nobody, T0).status).toBe('scheduled');
    // Even late or past the link's validity, someone waiting is shown (and can be ended).
    expect(consultationStatus(row(), { connected: [], waiting: 1 }, T0 + 25 * HOUR)).toEqual({ status: 'waiting', endable: true });
  });

  it('in progress only while someone is connected (reconnecting counts), with a running duration', () => {
    const started = row({ status: 'in_progress', startedAt: T0 + 5 * MIN });
    expect(consultationStatus(started, both, T0 + 15 * MIN)).toEqual({ status: 'in_progress', endable: true, durationMs: 10 * MIN });
    const reconnecting: LiveStatus = { connected: [{ role: 'patient', name: 'Camille', reconnecting: true }], waiting: 0 };
    expect(consultationStatus(started, reconnecting, T0 + 15 * MIN).status).toBe('in_progress');
    expect(consultationStatus(started, nobody, T0 + 15 * MIN).status).not.toBe('in_progress');
  });

  it('interrupted when everybody left without an end; the duration stops when the room emptied', () => {
    const left = row({ status: 'in_progress', startedAt: T0 + 5 * MIN, emptiedAt: T0 + 25 * MIN });
    const at = (now: number) => consultationStatus(left, nobody, now);
    expect(at(T0 + 30 * MIN)).toEqual({ status: 'interrupted', endable: true, durationMs: 20 * MIN });
    expect(at(T0 + 3 * HOUR).durationMs).toBe(20 * MIN);
    // Without a trace of when it stopped (server restart), no duration is made up.
    expect(consultationStatus(row({ status: 'in_progress', startedAt: T0 }), nobody, T0 + HOUR)).toEqual({ status: 'interrupted', endable: true });
  });

  it('no-show once the grace has passed and the patient never joined; not endable once the link expired', () => {
    expect(consultationStatus(row(), nobody, T0 + NO_SHOW_AFTER_MS)).toEqual({ status: 'no_show', endable: true });
    expect(consultationStatus(row({ status: 'waiting' }), nobody, T0 + 2 * HOUR).status).toBe('no_show');
    expect(consultationStatus(row(), nobody, T0 + 24 * HOUR)).toEqual({ status: 'no_show', endable: false });
    expect(consultationStatus(row(), doctorIn, T0 + 2 * HOUR)).toEqual({ status: 'no_show', endable: true });
  });

  it('expired when the call was interrupted and the link validity has passed: no End', () => {
    const left = row({ status: 'in_progress', startedAt: T0, emptiedAt: T0 + 10 * MIN });
    expect(consultationStatus(left, nobody, T0 + 24 * HOUR - 1).status).toBe('interrupted');
    expect(consultationStatus(left, nobody, T0 + 24 * HOUR)).toEqual({ status: 'expired', endable: false, durationMs: 10 * MIN });
    // Still running past the validity: in progress, and it can be ended.
    expect(consultationStatus(row({ status: 'in_progress', startedAt: T0 }), both, T0 + 25 * HOUR)).toMatchObject({ status: 'in_progress', endable: true });
  });

  it('ended is final: no End, the duration stops at the end (or earlier, if the room had emptied)', () => {
    const ended = row({ status: 'ended', startedAt: T0, endedAt: T0 + 30 * MIN });
    expect(consultationStatus(ended, nobody, T0 + 2 * HOUR)).toEqual({ status: 'ended', endable: false, durationMs: 30 * MIN });
    expect(consultationStatus(ended, both, T0 + 2 * HOUR)).toMatchObject({ status: 'ended', endable: false, durationMs: 30 * MIN });
    const abandonedThenEnded = row({ status: 'ended', startedAt: T0, emptiedAt: T0 + 10 * MIN, endedAt: T0 + 2 * HOUR });
    expect(consultationStatus(abandonedThenEnded, nobody, T0 + 3 * HOUR).durationMs).toBe(10 * MIN);
    expect(consultationStatus(row({ status: 'ended', endedAt: T0 }), nobody, T0)).toEqual({ status: 'ended', endable: false });
  });
});
