// The waiting room's reconnect loop (issue 9): a patient keeps its place
// through drops, a refused re-entry is asked again on the back-off, and it
// never stops looking for the server.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultReconnectPolicy } from '../../client/call/connection/reconnect-policy.ts';
import { LOST_PROBE_MS } from '../../client/call/connection/call-connection.ts';
import { WaitingRoomLink } from '../../client/call/connection/waiting-room-link.ts';
import { FakePort } from './support/fake-connection-port.ts';

const err = (code: string) => Object.assign(new Error(code), { code });

/** A socket that connects whenever asked, until the test says otherwise. */
function upPort(): FakePort {
  const port = new FakePort();
  port.mode = 'up';
  return port;
}

describe('WaitingRoomLink', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const policy = () => defaultReconnectPolicy({ random: () => 0.5, maxElapsedMs: 5000 });

  it('enters again after a drop; an entry that was kept (already-joined) is fine', async () => {
    const port = upPort();
    const enter = vi.fn(async () => Promise.reject(err('already-joined')));
    const refused = vi.fn();
    new WaitingRoomLink(port, enter, refused, { policy: policy() });
    port.emit({ type: 'disconnect', reason: 'transport close' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(enter).toHaveBeenCalledTimes(1);
    expect(refused).not.toHaveBeenCalled();
  });

  it("asks again, on the back-off, when a re-entry is refused with a passing code ('rate-limited': too many entries with this link)", async () => {
    const port = upPort();
    const times: number[] = [];
    let refusals = 8;
    const enter = vi.fn(async () => {
      times.push(Date.now());
      if (refusals-- > 0) throw err('rate-limited');
    });
    new WaitingRoomLink(port, enter, vi.fn(), { policy: policy() });
    port.emit({ type: 'disconnect', reason: 'transport close' });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(enter).toHaveBeenCalledTimes(9); // back in the waiting room
    // Never a tight loop: after the first two, at least 0.4 s apart (500 ms ±20 %).
    for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(400);
  });

  it('stops on a final refusal', async () => {
    const port = upPort();
    const refused = vi.fn();
    const enter = vi.fn(async () => Promise.reject(err('ended')));
    new WaitingRoomLink(port, enter, refused, { policy: policy() });
    port.emit({ type: 'disconnect', reason: 'transport close' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(enter).toHaveBeenCalledTimes(1);
    expect(refused).toHaveBeenCalledTimes(1);
  });

  it('after the time limit, still looks for the server every LOST_PROBE_MS, and enters when it is back', async () => {
    const port = upPort();
    const enter = vi.fn(async () => undefined);
    new WaitingRoomLink(port, enter, vi.fn(), { policy: policy() });
    port.mode = 'down';
    port.emit({ type: 'disconnect', reason: 'transport close' });
    await vi.advanceTimersByTimeAsync(10_000);
    const before = port.attempts;
    await vi.advanceTimersByTimeAsync(6 * LOST_PROBE_MS);
    expect(port.attempts - before).toBeGreaterThanOrEqual(5);
    expect(port.attempts - before).toBeLessThanOrEqual(7);
    port.mode = 'up';
    await vi.advanceTimersByTimeAsync(LOST_PROBE_MS);
    expect(enter).toHaveBeenCalledTimes(1);
  });

  it('does nothing after we closed the socket ourselves, or after close()', async () => {
    const port = upPort();
    const link = new WaitingRoomLink(port, vi.fn(async () => undefined), vi.fn(), { policy: policy() });
    port.emit({ type: 'disconnect', reason: 'io client disconnect' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(port.attempts).toBe(0);
    link.close();
    port.emit({ type: 'disconnect', reason: 'transport close' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(port.attempts).toBe(0);
  });
});
