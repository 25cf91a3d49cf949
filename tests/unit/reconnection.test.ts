// The pure parts of reconnection (issue 9): the retry policy, the failure
// classification, the connection owner's decisions (with a fake socket and
// fake timers), the participant list across rejoins, stall detection and the
// server's grace-period registry.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { classifyFailure, defaultReconnectPolicy, RETRY_TIERS } from '../../client/call/connection/reconnect-policy.ts';
import { CallConnection, FLAP_WINDOW_MS, LOST_PROBE_MS, type Recovery } from '../../client/call/connection/call-connection.ts';
import { FakePort } from './support/fake-connection-port.ts';
import { Participants, AWAY_SHOWN_MS } from '../../client/call/media/participants.ts';
import { StallDetector } from '../../client/call/media/video-health.ts';
import { HeldSessions } from '../../server/signalling/held-sessions.ts';
import type { PeerInfo } from '../../shared/protocol/signalling.ts';

describe('reconnect policy', () => {
  it('follows the delay table, caps at its last value, and gives up after the time limit', () => {
    const p = defaultReconnectPolicy({ random: () => 0.5, maxElapsedMs: 10_000 });
    const first = RETRY_TIERS[0]!.delaysMs;
    const delays = [...first.keys(), first.length, 50].map((attempt) => p.nextDelayMs({ attempt, elapsedMs: 0 }));
    const last = first[first.length - 1]!;
    expect(delays.slice(0, first.length)).toEqual([...first]);
    expect(delays.slice(first.length)).toEqual([last, last]);
    // Older faults use the later tiers.
    const unbounded = defaultReconnectPolicy({ random: () => 0.5 });
    expect(unbounded.nextDelayMs({ attempt: 0, elapsedMs: RETRY_TIERS[0]!.beforeMs })).toBe(RETRY_TIERS[1]!.delaysMs[0]);
    expect(p.nextDelayMs({ attempt: 3, elapsedMs: 10_000 })).toBeNull();
    expect(() => p.nextDelayMs({ attempt: -1, elapsedMs: 0 })).toThrow(RangeError);
  });

  it('never sleeps more than 1.2 s during the grace period, so a short drop is back within 2 s of its end', () => {
    // The worst case over every jitter draw: the sleep after the network returns, plus about 0.4 s to resume.
    const worst = defaultReconnectPolicy({ random: () => 0.999999 });
    let elapsed = 0;
    for (let attempt = 0; elapsed < 30_000; attempt++) {
      const d = worst.nextDelayMs({ attempt, elapsedMs: elapsed })!;
      expect(d, `attempt ${attempt} at ${elapsed} ms`).toBeLessThanOrEqual(1200);
      // The first 10 s (most drops, and a test's 3-s drop that overruns): at most 0.6 s asleep.
      if (elapsed < 10_000) expect(d, `attempt ${attempt} at ${elapsed} ms`).toBeLessThanOrEqual(600);
      elapsed += d;
    }
    // Past the grace period the place is gone: slower tries, still inside the 5-s restart goal.
    for (const elapsedMs of [30_000, 100_000]) {
      const d = worst.nextDelayMs({ attempt: 40, elapsedMs })!;
      expect(d).toBeGreaterThan(1200);
      expect(d).toBeLessThanOrEqual(2400);
    }
  });

  it('jitters each delay within ±20 %', () => {
    const low = defaultReconnectPolicy({ random: () => 0 }).nextDelayMs({ attempt: 3, elapsedMs: 0 })!;
    const high = defaultReconnectPolicy({ random: () => 0.999999 }).nextDelayMs({ attempt: 3, elapsedMs: 0 })!;
    const base = RETRY_TIERS[0]!.delaysMs[2]!;
    expect(low).toBe(base * 0.8);
    expect(high).toBe(base * 1.2);
  });

  it('classifies refusals: final, re-admission, or retry', () => {
    for (const code of ['ended', 'expired', 'forbidden', 'not-found']) expect(classifyFailure(code, 'patient')).toBe('final');
    expect(classifyFailure('unauthenticated', 'patient')).toBe('readmit');
    expect(classifyFailure('unauthenticated', 'doctor')).toBe('final');
    for (const code of ['timeout', 'disconnected', 'internal', 'rate-limited', 'bad-response', 'already-joined']) {
      expect(classifyFailure(code, 'patient')).toBe('retry');
    }
  });
});

function recovery(overrides: Partial<Recovery> = {}): Recovery & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    resume: vi.fn(async () => {
      calls.push('resume');
      return true;
    }),
    rejoin: vi.fn(async () => {
      calls.push('rejoin');
    }),
    repairMedia: vi.fn(async (kind: 'ice' | 'reset') => {
      calls.push(`media:${kind}`);
    }),
    readmit: vi.fn(() => calls.push('readmit')),
    ...overrides,
  } as Recovery & { calls: string[] };
}

const err = (code: string) => Object.assign(new Error(code), { code });

describe('CallConnection', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(r: Recovery, role: 'doctor' | 'patient' = 'patient') {
    const port = new FakePort();
    const conn = new CallConnection(port, r, { role: () => role, policy: defaultReconnectPolicy({ random: () => 0.5, maxElapsedMs: 5000 }) });
    conn.joined();
    return { port, conn };
  }

  it('resumes a recovered session (keys stay) and says how long it took', async () => {
    const r = recovery();
    const { port, conn } = setup(r);
    expect(conn.snapshot().phase).toBe('connected');
    port.emit({ type: 'disconnect', reason: 'transport close' });
    expect(conn.snapshot()).toMatchObject({ phase: 'reconnecting', step: 'signalling' });
    await vi.advanceTimersByTimeAsync(0);
    expect(port.attempts).toBe(1);
    port.emit({ type: 'connect_error' });
    await vi.advanceTimersByTimeAsync(250);
    expect(port.attempts).toBe(2);
    port.emit({ type: 'connect', recovered: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls).toEqual(['resume']);
    expect(conn.snapshot()).toMatchObject({ phase: 'connected', recoveredBy: 'resumed', lastRecoveryMs: 250 });
  });

  it('rejoins in full when the session was not recovered, or our place was gone', async () => {
    const r = recovery({ resume: async () => false });
    const { port, conn } = setup(r);
    port.emit({ type: 'disconnect', reason: 'ping timeout' });
    port.emit({ type: 'connect', recovered: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls).toEqual(['rejoin']);
    expect(conn.snapshot().recoveredBy).toBe('rejoined');
    port.emit({ type: 'disconnect', reason: 'transport close' });
    port.emit({ type: 'connect', recovered: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls).toEqual(['rejoin', 'rejoin']);
  });

  it('retries a failed rejoin on the schedule, stops for good on a final refusal', async () => {
    let fails = 2;
    const r = recovery({
      rejoin: vi.fn(async () => {
        if (fails-- > 0) throw err('internal');
      }),
    });
    const { port, conn } = setup(r);
    port.emit({ type: 'disconnect', reason: 'transport close' });
    port.emit({ type: 'connect', recovered: false });
    await vi.advanceTimersByTimeAsync(2000);
    expect(r.rejoin).toHaveBeenCalledTimes(3);
    expect(conn.snapshot().phase).toBe('connected');

    const ended = recovery({ rejoin: async () => Promise.reject(err('ended')) });
    const s2 = setup(ended);
    s2.port.emit({ type: 'disconnect', reason: 'transport close' });
    s2.port.emit({ type: 'connect', recovered: false });
    await vi.advanceTimersByTimeAsync(5000);
    expect(s2.conn.snapshot()).toMatchObject({ phase: 'lost', lostReason: 'refused', lostCode: 'ended' });
  });

  it('sends a patient whose credential is refused back to be admitted', async () => {
    const r = recovery({ rejoin: async () => Promise.reject(err('unauthenticated')) });
    const { port, conn } = setup(r);
    port.emit({ type: 'disconnect', reason: 'transport close' });
    port.emit({ type: 'connect', recovered: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(r.readmit).toHaveBeenCalledTimes(1);
    expect(conn.snapshot().lostCode).toBe('unauthenticated');
  });

  it('backs off a server that drops every connection right after accepting it (no full rejoin every half second)', async () => {
    // A crash loop, or a proxy cutting sockets: connect and rejoin succeed, then the socket drops at once.
    let joins = 0;
    const r = recovery({
      resume: vi.fn(async () => false),
      rejoin: vi.fn(async () => {
        joins++;
        setTimeout(() => port.emit({ type: 'disconnect', reason: 'io server disconnect' }), 10);
      }),
    });
    const port = new FakePort();
    const conn = new CallConnection(port, r, { role: () => 'patient', policy: defaultReconnectPolicy({ random: () => 0.5 }) });
    conn.joined();
    const connectsOk = port.connect.bind(port);
    port.connect = () => {
      connectsOk();
      queueMicrotask(() => port.emit({ type: 'connect', recovered: true }));
    };
    port.emit({ type: 'disconnect', reason: 'transport close' });
    await vi.advanceTimersByTimeAsync(60_000);
    // Without the carried-over back-off: ~120 rejoins a minute (each new keys for everyone).
    // With it: the policy's schedule, as for one long fault (10 s at 0.5 s, then 1 s).
    expect(joins).toBeLessThanOrEqual(20 + 50);
    expect(joins).toBeGreaterThan(10);
    await vi.advanceTimersByTimeAsync(60_000);
    // Past the policy's limit: one try per LOST_PROBE_MS, as for a server that stays down.
    const late = joins;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(joins - late).toBeLessThanOrEqual(60_000 / LOST_PROBE_MS + 1);
    // A user's Rejoin click starts afresh.
    conn.retryNow();
    expect(conn.snapshot().phase).toBe('reconnecting');
  });

  it('a fault long after the last recovery starts a fresh back-off', async () => {
    const r = recovery();
    const { port, conn } = setup(r);
    port.emit({ type: 'disconnect', reason: 'transport close' });
    await vi.advanceTimersByTimeAsync(0);
    port.emit({ type: 'connect', recovered: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(conn.snapshot().phase).toBe('connected');
    await vi.advanceTimersByTimeAsync(FLAP_WINDOW_MS + 1);
    const before = port.attempts;
    port.emit({ type: 'disconnect', reason: 'transport close' });
    await vi.advanceTimersByTimeAsync(0);
    expect(port.attempts).toBe(before + 1); // attempt 0 is immediate again
  });

  it('gives up on an unreachable server after the time limit (bounded, no tight loop), probes slowly, and Rejoin starts over', async () => {
    const r = recovery();
    const { port, conn } = setup(r);
    port.mode = 'down';
    port.emit({ type: 'disconnect', reason: 'transport close' });
    await vi.advanceTimersByTimeAsync(7000);
    expect(conn.snapshot()).toMatchObject({ phase: 'lost', lostReason: 'unreachable' });
    expect(port.attempts).toBeGreaterThan(4);
    expect(port.attempts).toBeLessThanOrEqual(2 + Math.ceil(5000 / (0.8 * 500))); // ~5 s at ≥ 0.4 s apart
    const before = port.attempts;
    await vi.advanceTimersByTimeAsync(60_000);
    // Still looking, but only once every LOST_PROBE_MS.
    expect(port.attempts - before).toBeLessThanOrEqual(60_000 / LOST_PROBE_MS);
    expect(port.attempts - before).toBeGreaterThanOrEqual(5);
    expect(conn.snapshot().phase).toBe('lost');
    const probes = port.attempts;
    conn.retryNow();
    expect(port.attempts).toBe(probes + 1);
    expect(conn.snapshot().phase).toBe('reconnecting');
  });

  it('finds a server that came back after the page gave up, without a click', async () => {
    const r = recovery();
    const { port, conn } = setup(r);
    port.mode = 'down';
    port.emit({ type: 'disconnect', reason: 'transport close' });
    await vi.advanceTimersByTimeAsync(7000);
    expect(conn.snapshot().phase).toBe('lost');
    port.mode = 'manual';
    const attempts = port.attempts;
    await vi.advanceTimersByTimeAsync(LOST_PROBE_MS);
    expect(port.attempts).toBe(attempts + 1);
    port.emit({ type: 'connect', recovered: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(conn.snapshot()).toMatchObject({ phase: 'connected', recoveredBy: 'rejoined' });
  });

  it('restarts ICE when media fails, or stays disconnected for 2 s, while signalling is fine; rebuilds after a mediaReset', async () => {
    const r = recovery();
    const { conn } = setup(r);
    conn.mediaState('disconnected');
    await vi.advanceTimersByTimeAsync(1500);
    conn.mediaState('connected'); // healed by itself: nothing to do
    await vi.advanceTimersByTimeAsync(2000);
    expect(r.calls).toEqual([]);
    conn.mediaState('disconnected');
    await vi.advanceTimersByTimeAsync(2100);
    expect(r.calls).toEqual(['media:ice']);
    conn.mediaState('failed');
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls).toEqual(['media:ice', 'media:ice']);
    conn.mediaReset();
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls).toEqual(['media:ice', 'media:ice', 'media:reset']);
    expect(conn.snapshot().recoveredBy).toBe('media');
  });

  it('a resume whose ICE restart finds no transport (the SFU worker died during the drop) rejoins instead of giving up', async () => {
    // The room moved to a new worker while we were away: restartIce on our old transport answers 'not-found'.
    const r = recovery({ resume: async () => Promise.reject(err('not-found')) });
    const { port, conn } = setup(r, 'doctor');
    port.emit({ type: 'disconnect', reason: 'transport close' });
    port.emit({ type: 'connect', recovered: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls).toEqual(['rejoin']);
    expect(conn.snapshot()).toMatchObject({ phase: 'connected', recoveredBy: 'rejoined' });
  });

  it('a media repair refused with a transport error rejoins in full, never "could not reconnect"', async () => {
    const r = recovery({ repairMedia: async () => Promise.reject(err('not-found')) });
    const { conn } = setup(r);
    conn.mediaState('failed');
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.calls).toEqual(['rejoin']);
    expect(conn.snapshot()).toMatchObject({ phase: 'connected', recoveredBy: 'rejoined' });
  });

  it('keeps a mediaReset that arrives while a recovery runs, and rebuilds media after it', async () => {
    // socket.io hands the missed mediaReset over right after 'connect', while resume() runs.
    let resolveResume: (ok: boolean) => void = () => undefined;
    const r = recovery({ resume: () => new Promise<boolean>((res) => (resolveResume = res)) });
    const { port, conn } = setup(r);
    port.emit({ type: 'disconnect', reason: 'transport close' });
    port.emit({ type: 'connect', recovered: true });
    conn.mediaReset();
    resolveResume(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.calls).toEqual(['media:reset']);
    expect(conn.snapshot()).toMatchObject({ phase: 'connected', recoveredBy: 'media' });
  });

  it('does not reconnect after we closed the socket ourselves (leave, end)', async () => {
    const r = recovery();
    const { port, conn } = setup(r);
    port.emit({ type: 'disconnect', reason: 'io client disconnect' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(port.attempts).toBe(0);
    expect(conn.snapshot().phase).toBe('connected');
  });
});

const info = (peerId: string, participantId: string, extra: Partial<PeerInfo> = {}): PeerInfo => ({
  peerId,
  participantId,
  displayName: 'Zoé',
  role: 'patient',
  slot: 1,
  ...extra,
});

describe('Participants', () => {
  it('keeps one entry per person across rejoins, and marks the return', () => {
    let now = 1000;
    const p = new Participants(() => undefined, () => now);
    p.joined(info('peer-1', 'zoe'));
    p.setReconnecting('peer-1', true);
    expect(p.list()[0]).toMatchObject({ peerId: 'peer-1', reconnecting: true });
    p.left('peer-1', 'replaced');
    expect(p.list()).toHaveLength(1); // still shown, as reconnecting
    now = 2000;
    p.joined(info('peer-2', 'zoe'));
    expect(p.list()).toEqual([expect.objectContaining({ peerId: 'peer-2', participantId: 'zoe', reconnecting: false, reconnectedAt: 2000 })]);
    p.left('peer-2', 'left');
    expect(p.list()).toEqual([]);
  });

  it('forgets someone whose grace period ran out only after a while', () => {
    vi.useFakeTimers();
    try {
      const p = new Participants(() => undefined);
      p.joined(info('peer-1', 'zoe'));
      p.left('peer-1', 'timeout');
      expect(p.list()[0]?.reconnecting).toBe(true);
      vi.advanceTimersByTime(AWAY_SHOWN_MS + 1);
      expect(p.list()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('on our own rejoin, takes the join answer as the truth', () => {
    const p = new Participants(() => undefined);
    p.joined(info('a', 'doctor', { role: 'doctor' }));
    p.joined(info('b', 'zoe'));
    p.resetTo([info('b2', 'zoe')]);
    const list = p.list();
    expect(list.find((x) => x.participantId === 'zoe')?.peerId).toBe('b2');
    expect(list.find((x) => x.participantId === 'doctor')?.reconnecting).toBe(true);
  });
});

describe('StallDetector', () => {
  it('says stalled only after more than 2 s without a new decoded frame', () => {
    const d = new StallDetector(2000);
    expect(d.sample('c', 10, 0)).toBe(false);
    expect(d.sample('c', 20, 500)).toBe(false);
    expect(d.sample('c', 20, 2400)).toBe(false);
    expect(d.sample('c', 20, 2600)).toBe(true);
    expect(d.sample('c', 21, 2700)).toBe(false);
  });
});

describe('HeldSessions', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('hands back a session recovered within the grace period; expires it otherwise', () => {
    const held = new HeldSessions<{ expire(): void }>(30_000);
    const a = { expire: vi.fn() };
    const b = { expire: vi.fn() };
    held.hold('sock-a', a);
    held.hold('sock-b', b);
    vi.advanceTimersByTime(10_000);
    expect(held.take('sock-a')).toBe(a);
    expect(held.take('sock-a')).toBeUndefined();
    vi.advanceTimersByTime(20_001);
    expect(b.expire).toHaveBeenCalledTimes(1);
    expect(a.expire).not.toHaveBeenCalled();
    expect(held.take('sock-b')).toBeUndefined();
  });

  it('holds nobody once the server shuts down', () => {
    const held = new HeldSessions<{ expire(): void }>(30_000);
    const a = { expire: vi.fn() };
    held.hold('x', a);
    held.clear();
    held.hold('y', a);
    vi.advanceTimersByTime(60_000);
    expect(held.size).toBe(0);
    expect(a.expire).not.toHaveBeenCalled();
  });
});
