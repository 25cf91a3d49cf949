/**
 * Keeps only the newest answer of a repeated request. The staff screens
 * reload their lists on a timer and after every action; answers can come
 * back out of order (a slow poll issued before an action lands after the
 * reload that follows it), and applying them in arrival order would show
 * the older list last: an ended consultation flipping back to "in progress".
 * @module
 */

/** What a wrapped call settles to: its answer, or `stale` when a later call has already been answered. */
export type Latest<T> = { stale: false; value: T } | { stale: true };

/**
 * Wraps `load` so that each call resolves `{ stale: true }` once a call
 * issued after it has settled (answer or error), and never applies out of
 * order. Errors of the newest call still reject; errors of stale calls are
 * swallowed. `cancel()` makes every pending call stale (on unmount).
 */
export function latestOnly<T>(load: () => Promise<T>): { run(): Promise<Latest<T>>; cancel(): void } {
  let issued = 0;
  let settled = 0;
  return {
    async run() {
      const n = ++issued;
      let value: T;
      try {
        value = await load();
      } catch (err) {
        if (n <= settled) return { stale: true };
        settled = n;
        throw err;
      }
      if (n <= settled) return { stale: true };
      settled = n;
      return { stale: false, value };
    },
    cancel() {
      settled = Number.POSITIVE_INFINITY;
    },
  };
}
