// Which peers may be in a key round: exactly those with a tile of their own
// (client/e2ee/shown-members.ts mirrors client/call/media/participants.ts).
import { describe, expect, it } from 'vitest';
import { ShownMembers } from '../../client/e2ee/shown-members.ts';

describe('the members a page shows', () => {
  it('follows joins and leaves; an honest reconnection (leave, then join) displaces nobody', () => {
    const m = new ShownMembers();
    m.reset('me', [{ peerId: 'd1', participantId: 'doctor' }]);
    expect(m.joined({ peerId: 'p1', participantId: 'patient' })).toBeUndefined();
    m.left('p1');
    expect(m.has('p1')).toBe(false);
    expect(m.joined({ peerId: 'p2', participantId: 'patient' })).toBeUndefined();
    expect([m.has('d1'), m.has('p2')]).toEqual([true, true]);
  });

  it('a second peer for a shown person takes its one tile: the earlier peer is displaced', () => {
    const m = new ShownMembers();
    m.reset('me', [{ peerId: 'd1', participantId: 'doctor' }]);
    expect(m.joined({ peerId: 'ghost', participantId: 'doctor' })).toBe('d1');
    expect([m.has('d1'), m.has('ghost')]).toEqual([false, true]);
  });

  it('in a join answer, only the last peer of a person is shown, and none that carries our own participantId', () => {
    const m = new ShownMembers();
    m.reset('me', [
      { peerId: 'ghost', participantId: 'doctor' },
      { peerId: 'd1', participantId: 'doctor' },
      { peerId: 'mirror', participantId: 'me' },
    ]);
    expect([m.has('ghost'), m.has('d1'), m.has('mirror')]).toEqual([false, true, false]);
    expect(m.joined({ peerId: 'mirror2', participantId: 'me' })).toBe('mirror2');
    expect(m.has('mirror2')).toBe(false);
  });
});
