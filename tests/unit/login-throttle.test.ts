// The sign-in throttle (server/auth/login-throttle.ts) and the hash gate
// (server/auth/hash-gate.ts), issue 12 item 1: an attempt counts from the
// moment it starts, so guesses in flight cannot all slip past the check; and
// no more than a few password hashes run at once.
import { describe, expect, it } from 'vitest';
import { LoginThrottle, type LoginAttempt } from '../../server/auth/login-throttle.ts';
import { HashGate, HashGateFull } from '../../server/auth/hash-gate.ts';

function take(t: LoginThrottle, ip: string, email: string): LoginAttempt {
  const v = t.begin(ip, email);
  if (!v.allowed) throw new Error(`refused (retry after ${v.retryAfterSec} s)`);
  return v.attempt;
}

describe('LoginThrottle', () => {
  it('counts attempts still being checked: 60 concurrent guesses, only 5 get a password check', () => {
    const t = new LoginThrottle();
    const verdicts = Array.from({ length: 60 }, () => t.begin('1.1.1.1', 'a@x'));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(5);
    const refused = verdicts.filter((v) => !v.allowed);
    expect(refused.every((v) => !v.allowed && v.retryAfterSec >= 1)).toBe(true);
    // Across emails, the address's 20 are the bound.
    const t2 = new LoginThrottle();
    const many = Array.from({ length: 300 }, (_, i) => t2.begin('2.2.2.2', `u${i}@x`));
    expect(many.filter((v) => v.allowed)).toHaveLength(20);
  });

  it('frees the slot of a cancelled or successful attempt, keeps a failed one counted', () => {
    const t = new LoginThrottle();
    const a = Array.from({ length: 5 }, () => take(t, '1.1.1.1', 'a@x'));
    expect(t.begin('1.1.1.1', 'a@x').allowed).toBe(false);
    a[0]!.cancel();
    a[0]!.failed(); // reported twice: the second is ignored
    expect(t.begin('1.1.1.1', 'a@x').allowed).toBe(true); // took the freed slot
    for (const x of a.slice(1)) x.failed();
    // 4 failures + 1 under way: full; when it fails too, locked for 15 min.
    expect(t.begin('1.1.1.1', 'a@x').allowed).toBe(false);
  });

  it('success resets the pair, locks expire, old failures age out, memory stays bounded', () => {
    let now = 1_000_000;
    const t = new LoginThrottle({ now: () => now, maxEntries: 100 });
    for (let i = 0; i < 4; i++) take(t, '1.1.1.1', 'a@x').failed();
    take(t, '1.1.1.1', 'A@X ').succeeded();
    for (let i = 0; i < 4; i++) take(t, '1.1.1.1', 'a@x').failed(); // the earlier 4 were forgotten
    take(t, '1.1.1.1', 'a@x').failed();
    expect(t.begin('1.1.1.1', 'a@x')).toEqual({ allowed: false, retryAfterSec: 900 });
    now += 14 * 60 * 1000;
    expect(t.begin('1.1.1.1', 'a@x')).toEqual({ allowed: false, retryAfterSec: 60 });
    now += 60 * 1000;
    take(t, '1.1.1.1', 'a@x').cancel();
    for (let i = 0; i < 4; i++) take(t, '2.2.2.2', 'b@x').failed();
    now += 16 * 60 * 1000;
    take(t, '2.2.2.2', 'b@x').failed();
    expect(t.begin('2.2.2.2', 'b@x').allowed).toBe(true);
    for (let i = 0; i < 5000; i++) take(t, `9.9.${i >> 8}.${i & 255}`, `u${i}@x`).failed();
    expect(t.size.pairs).toBeLessThanOrEqual(100);
    expect(t.size.ips).toBeLessThanOrEqual(100);
  });
});

describe('HashGate', () => {
  it('runs at most `active` at once, queues a few, refuses the rest at once, per key too', async () => {
    const gate = new HashGate({ active: 2, queued: 3, perKey: 2 });
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const work = () =>
      new Promise<string>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        releases.push(() => {
          running--;
          resolve('done');
        });
      });
    const results = Array.from({ length: 10 }, (_, i) => gate.run(`k${i}`, work).then((v) => v, (e: unknown) => e));
    // The queue is full: even a key with room left waits for nothing.
    const sameKey = [gate.run('k0', work).catch((e: unknown) => e)];
    await new Promise((r) => setTimeout(r, 10));
    expect(gate.load).toMatchObject({ running: 2, waiting: 3 });
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((r) => setTimeout(r, 1));
    }
    const settled = await Promise.all([...results, ...sameKey]);
    expect(settled.filter((r) => r === 'done')).toHaveLength(5); // 2 running + 3 queued
    expect(settled.filter((r) => r instanceof HashGateFull)).toHaveLength(6);
    expect(peak).toBe(2);
    expect(gate.load).toEqual({ running: 0, waiting: 0, keys: 0 });
    const g2 = new HashGate({ perKey: 1 });
    const first = g2.run('ip', () => new Promise((r) => setTimeout(r, 20)));
    await expect(g2.run('ip', async () => 1)).rejects.toBeInstanceOf(HashGateFull);
    await first;
    await expect(g2.run('ip', async () => 1)).resolves.toBe(1);
  });

  it('frees its slot when the work throws', async () => {
    const gate = new HashGate({ active: 1, queued: 0 });
    await expect(gate.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run('a', async () => 2)).resolves.toBe(2);
    expect(gate.load).toEqual({ running: 0, waiting: 0, keys: 0 });
  });
});
