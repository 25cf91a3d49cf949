import { useCallback, useEffect, useRef } from 'react';
import { latestOnly } from './latest-only.ts';

/**
 * Loads now and every `everyMs` (ms) while mounted, applying only the newest
 * answer (latestOnly): `onValue` or `onError` is never called with an answer
 * older than one already applied, nor after unmount. Returns `refresh`, to
 * call after an action; it resolves once that load is applied (or stale).
 * `load`, `onValue` and `onError` are read at call time, so they may change
 * between renders without restarting the timer.
 */
export function usePolled<T>(load: () => Promise<T>, onValue: (v: T) => void, onError: (err: unknown) => void, everyMs: number): () => Promise<void> {
  // Made by the effect (one per mount): nothing is built on every render.
  const latest = useRef<ReturnType<typeof latestOnly<T>>>(undefined);
  const current = useRef({ load, onValue, onError });
  current.current = { load, onValue, onError };
  const refresh = useCallback(async () => {
    const guard = latest.current;
    if (!guard) return; // not mounted yet
    try {
      const r = await guard.run();
      if (!r.stale) current.current.onValue(r.value);
    } catch (err) {
      current.current.onError(err);
    }
  }, []);
  useEffect(() => {
    const guard = latestOnly(() => current.current.load());
    latest.current = guard;
    void refresh();
    const timer = setInterval(() => void refresh(), everyMs);
    return () => {
      clearInterval(timer);
      guard.cancel();
    };
  }, [refresh, everyMs]);
  return refresh;
}
