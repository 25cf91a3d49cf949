// Several nodes (issue 16): the console on any node shows what the hosting
// node published, and stops showing a call once its node has gone quiet
// (dead, or the room closed), so a SIGKILLed node's calls do not stay "live".
import { describe, expect, it } from 'vitest';
import { LIVE_TTL_MS, LiveBoard } from '../../server/cluster/cluster-events.ts';

const inCall = { connected: [{ role: 'doctor' as const, name: 'Dr' }], waiting: 1 };

describe('the live board of other nodes', () => {
  it('answers what another node published last, until LIVE_TTL_MS after it', () => {
    const board = new LiveBoard();
    board.put([['c1', inCall]], 1_000);
    expect(board.get('c1', 1_000 + LIVE_TTL_MS)).toEqual(inCall);
    expect(board.get('c1', 1_001 + LIVE_TTL_MS)).toBeUndefined();
    expect(board.get('other', 1_000)).toBeUndefined();
  });

  it('a newer message replaces the older status and restarts its time', () => {
    const board = new LiveBoard();
    board.put([['c1', inCall]], 0);
    board.put([['c1', { connected: [], waiting: 0 }]], LIVE_TTL_MS);
    expect(board.get('c1', 2 * LIVE_TTL_MS)).toEqual({ connected: [], waiting: 0 });
  });
});
