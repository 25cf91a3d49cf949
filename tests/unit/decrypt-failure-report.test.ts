// The page's decrypt-failure reports (issue 15): only increases are sent,
// only failures of frames that had a key count, a restarted Worker starts
// from zero, and a huge count is clamped to what the protocol accepts.
import { describe, expect, it } from 'vitest';
import { DecryptFailureReporter, decryptFailures } from '../../client/e2ee/decrypt-failure-report.ts';
import { emptyReceiverStats, type E2eeStats } from '../../client/e2ee/worker-messages.ts';
import { MAX_DECRYPT_FAILURES_PER_REPORT } from '../../shared/protocol/signalling.ts';

function stats(receivers: Record<string, Partial<ReturnType<typeof emptyReceiverStats>>>): E2eeStats {
  const out: E2eeStats = { sender: { kid: undefined, encrypted: 0, keyFramesEncrypted: 0, droppedNoKey: 0, failed: 0 }, receivers: {} };
  for (const [peer, r] of Object.entries(receivers)) out.receivers[peer] = { ...emptyReceiverStats(), ...r };
  return out;
}

describe('decrypt-failure reports', () => {
  it('count failed authentication, malformed, replayed and misattributed frames — not missing keys', () => {
    expect(decryptFailures(stats({ a: { failedAuth: 2, malformed: 1, droppedNoKey: 50 }, b: { replayed: 3, wrongSender: 4, decrypted: 9 } }))).toBe(10);
  });

  it('send only increases, start again after a Worker restart, and clamp', async () => {
    let current = stats({});
    const sent: number[] = [];
    const r = new DecryptFailureReporter(async () => current, async (n) => void sent.push(n));
    await r.tick();
    current = stats({ a: { failedAuth: 5 } });
    await r.tick();
    await r.tick();
    current = stats({ a: { failedAuth: 7 } });
    await r.tick();
    current = stats({ b: { malformed: 1 } }); // a new Worker: its counters restarted
    await r.tick();
    current = stats({ b: { malformed: 1 + MAX_DECRYPT_FAILURES_PER_REPORT * 2 } });
    await r.tick();
    expect(sent).toEqual([5, 2, 1, MAX_DECRYPT_FAILURES_PER_REPORT]);
  });
});
