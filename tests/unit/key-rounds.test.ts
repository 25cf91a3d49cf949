// The server's bookkeeping of key rounds (server/rooms/key-rounds.ts): one
// round per change of membership, one commitment then one reveal per member
// per round, reveals only once everyone committed, the same message twice
// taken without a second relay.
import { describe, expect, it } from 'vitest';
import { KeyRounds } from '../../server/rooms/key-rounds.ts';
import { SignallingError } from '../../server/signalling/errors.ts';

const commit = (round: number, c = 'aa') => ({ round, commitment: c.repeat(32), mac: 'bb'.repeat(32) });
const reveal = (round: number, k = 'cc') => ({ round, publicKey: k.repeat(32), nonce: 'dd'.repeat(32) });

function code(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof SignallingError ? err.code : 'not a SignallingError';
  }
}

describe('KeyRounds (server)', () => {
  it('numbers rounds from 1 and keeps only the current one', () => {
    const k = new KeyRounds();
    expect(k.info).toBeUndefined();
    expect(k.next([{ peerId: 'a', slot: 0 }])).toEqual({ round: 1, members: [{ peerId: 'a', slot: 0 }] });
    expect(k.commit('a', commit(1))).toBe(true);
    const r2 = k.next([
      { peerId: 'a', slot: 0 },
      { peerId: 'b', slot: 1 },
    ]);
    expect(r2.round).toBe(2);
    expect(code(() => k.commit('a', commit(1)))).toBe('not-found'); // round 1 is over
    expect(k.commit('a', commit(2))).toBe(true); // and its state went with it
  });

  it('takes one commitment per member, the same one again without relaying it, never a different one', () => {
    const k = new KeyRounds();
    k.next([
      { peerId: 'a', slot: 0 },
      { peerId: 'b', slot: 1 },
    ]);
    expect(k.commit('a', commit(1))).toBe(true);
    expect(k.commit('a', commit(1))).toBe(false);
    expect(code(() => k.commit('a', commit(1, 'ee')))).toBe('forbidden');
    expect(code(() => k.commit('x', commit(1)))).toBe('forbidden'); // not a member
    expect(code(() => k.commit('a', commit(3)))).toBe('not-found');
  });

  it('takes a reveal only after its own and every member\'s commitment, once', () => {
    const k = new KeyRounds();
    k.next([
      { peerId: 'a', slot: 0 },
      { peerId: 'b', slot: 1 },
    ]);
    expect(code(() => k.reveal('a', reveal(1)))).toBe('forbidden'); // no commitment yet
    k.commit('a', commit(1));
    expect(code(() => k.reveal('a', reveal(1)))).toBe('forbidden'); // b has not committed
    k.commit('b', commit(1, 'ab'));
    expect(k.reveal('a', reveal(1))).toBe(true);
    expect(k.reveal('a', reveal(1))).toBe(false);
    expect(code(() => k.reveal('a', reveal(1, 'ef')))).toBe('forbidden');
    expect(code(() => k.reveal('b', reveal(2)))).toBe('not-found');
    expect(k.reveal('b', reveal(1, 'fe'))).toBe(true);
  });
});
