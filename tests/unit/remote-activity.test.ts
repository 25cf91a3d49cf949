import { describe, expect, it } from 'vitest';
import {
  QUIET_MS,
  SPEAKING_HOLD_MS,
  foldActivity,
  type ActivityState,
  type ReceiverSample,
} from '../../client/ui/call/stage/remote-activity.ts';

const mic = (packets: number, audioLevel = 0): ReceiverSample => ({ consumerId: 'm', peerId: 'a', source: 'mic', packets, frames: 0, audioLevel });
const cam = (packets: number, frames: number): ReceiverSample => ({ consumerId: 'c', peerId: 'a', source: 'camera', packets, frames, audioLevel: undefined });

/** Feeds rounds of samples at the given times; returns the last activity of peer 'a'. */
function run(rounds: [number, ReceiverSample[]][]) {
  let state: ActivityState = new Map();
  let last;
  for (const [now, samples] of rounds) {
    const r = foldActivity(state, samples, ['a'], now);
    state = r.state;
    last = r.activity.a;
  }
  return last!;
}

describe('foldActivity', () => {
  it('has a picture once a camera frame was decoded, not before (no black tile before the keys)', () => {
    expect(run([[0, [cam(50, 0)]], [500, [cam(90, 0)]]]).pictureReady).toBe(false);
    expect(run([[0, [cam(50, 0)]], [500, [cam(90, 3)]]]).pictureReady).toBe(true);
    expect(run([[0, [mic(10)]]]).pictureReady).toBe(false);
  });

  it('says nothing without tracks', () => {
    expect(run([[0, []]])).toEqual({ speaking: false, pictureReady: false });
  });

  it('speaks while the level is loud, and for SPEAKING_HOLD_MS after', () => {
    expect(run([[0, [mic(10, 0)]], [500, [mic(30, 0.2)]]]).speaking).toBe(true);
    expect(run([[0, [mic(10, 0)]], [500, [mic(30, 0.2)]], [500 + SPEAKING_HOLD_MS - 100, [mic(50, 0.001)]]]).speaking).toBe(true);
    expect(run([[0, [mic(10, 0)]], [500, [mic(30, 0.2)]], [500 + SPEAKING_HOLD_MS + 100, [mic(50, 0.001)]]]).speaking).toBe(false);
    expect(run([[0, [mic(10, 0)]], [500, [mic(30, 0.005)]]]).speaking).toBe(false);
  });

  it('never says speaking once the packets stop (a stale level of a muted mic)', () => {
    expect(run([[0, [mic(10, 0.3)]], [400, [mic(10, 0.3)]]]).speaking).toBe(true);
    expect(run([[0, [mic(10, 0.3)]], [QUIET_MS + 100, [mic(10, 0.3)]]]).speaking).toBe(false);
  });

  it('forgets closed receivers and restarts on a reused id with smaller counters', () => {
    const r1 = foldActivity(new Map(), [mic(100)], ['a'], 0);
    const r2 = foldActivity(r1.state, [], ['a'], 100);
    expect(r2.state.size).toBe(0);
    const r3 = foldActivity(r1.state, [mic(5, 0.3)], ['a'], 200);
    expect(r3.activity.a?.speaking).toBe(true);
    expect(r3.state.get('m')?.grewAt).toBe(200);
  });
});
