// The pure rules behind the top bar's E2EE badge and network hint.
import { describe, expect, it } from 'vitest';
import { badgeState } from '../../client/ui/call/E2eeBadge.tsx';
import { rateNetwork } from '../../client/ui/call/NetworkHint.tsx';
import { emptyReceiverStats, type E2eeStats, type ReceiverStats } from '../../client/e2ee/worker-messages.ts';

const receiver = (r: Partial<ReceiverStats> = {}): ReceiverStats => ({ ...emptyReceiverStats(), ...r });
const stats = (kid: bigint | undefined, receivers: Record<string, ReceiverStats>): E2eeStats => ({
  sender: { kid, encrypted: 0, keyFramesEncrypted: 0, droppedNoKey: 0, failed: 0 },
  receivers,
});

describe('badgeState', () => {
  it('is no-key while we have no key of our own (nothing is sent)', () => {
    expect(badgeState(undefined, stats(undefined, {}), ['a'])).toEqual({ state: 'no-key', failing: [] });
  });
  it('is decrypting only when frames from every participant decrypted since the last poll', () => {
    const before = stats(1n, { a: receiver({ decrypted: 10 }), b: receiver({ decrypted: 10 }) });
    expect(badgeState(before, stats(1n, { a: receiver({ decrypted: 20 }), b: receiver({ decrypted: 30 }) }), ['a', 'b']).state).toBe('decrypting');
    expect(badgeState(before, stats(1n, { a: receiver({ decrypted: 20 }), b: receiver({ decrypted: 10 }) }), ['a', 'b']).state).toBe('keys');
  });
  it('is keys when alone or before media flows', () => {
    expect(badgeState(undefined, stats(1n, {}), []).state).toBe('keys');
  });
  it('names the participants whose frames fail and none decrypt', () => {
    const before = stats(1n, { a: receiver({ decrypted: 10 }), b: receiver({ decrypted: 10 }) });
    const now = stats(1n, { a: receiver({ decrypted: 20 }), b: receiver({ decrypted: 10, failedAuth: 5 }) });
    expect(badgeState(before, now, ['a', 'b'])).toEqual({ state: 'failing', failing: ['b'] });
    // A few failures while frames still decrypt (a key change) are not a failure.
    const mixed = stats(1n, { a: receiver({ decrypted: 20 }), b: receiver({ decrypted: 15, failedAuth: 5 }) });
    expect(badgeState(before, mixed, ['a', 'b']).state).toBe('decrypting');
  });
});

describe('rateNetwork', () => {
  it('folds round-trip time (ms) and loss (0..1) into one word', () => {
    expect(rateNetwork(undefined, undefined)).toBe('unknown');
    expect(rateNetwork(40, 0)).toBe('good');
    expect(rateNetwork(40, undefined)).toBe('good');
    expect(rateNetwork(149, 0.019)).toBe('good');
    expect(rateNetwork(150, 0)).toBe('fair');
    expect(rateNetwork(40, 0.05)).toBe('fair');
    expect(rateNetwork(400, 0)).toBe('poor');
    expect(rateNetwork(40, 0.08)).toBe('poor');
  });
});
