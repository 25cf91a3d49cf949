// Staff screens reload lists on a timer and after actions: an older answer
// arriving last must not replace a newer one (client/ui/latest-only.ts).
import { describe, expect, it } from 'vitest';
import { latestOnly } from '../../client/ui/latest-only.ts';

/** A load whose answers the test releases by hand, in any order. */
function manualLoad() {
  const pending: { resolve(v: string): void; reject(e: unknown): void }[] = [];
  const load = () => new Promise<string>((resolve, reject) => pending.push({ resolve, reject }));
  return { load, pending };
}

describe('latestOnly', () => {
  it('drops an older answer that arrives after a newer one', async () => {
    const { load, pending } = manualLoad();
    const l = latestOnly(load);
    const slowPoll = l.run();
    const afterAction = l.run();
    pending[1]!.resolve('ended');
    pending[0]!.resolve('in progress');
    expect(await afterAction).toEqual({ stale: false, value: 'ended' });
    expect(await slowPoll).toEqual({ stale: true });
  });

  it('applies answers that arrive in order', async () => {
    const { load, pending } = manualLoad();
    const l = latestOnly(load);
    const a = l.run();
    const b = l.run();
    pending[0]!.resolve('a');
    expect(await a).toEqual({ stale: false, value: 'a' });
    pending[1]!.resolve('b');
    expect(await b).toEqual({ stale: false, value: 'b' });
  });

  it('rejects the newest error, swallows a stale one, and nothing applies after cancel', async () => {
    const { load, pending } = manualLoad();
    const l = latestOnly(load);
    const old = l.run();
    const newest = l.run();
    pending[1]!.reject(new Error('down'));
    await expect(newest).rejects.toThrow('down');
    pending[0]!.reject(new Error('older failure'));
    expect(await old).toEqual({ stale: true });
    const late = l.run();
    l.cancel();
    pending[2]!.resolve('after unmount');
    expect(await late).toEqual({ stale: true });
  });
});
