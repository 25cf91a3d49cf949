// Who gets the stage. Pure (no DOM, no React) so the rules are unit-tested
// (tests/unit/stage-layout.test.ts): a screen share first, then the other
// person; three participants or more make a grid. Our own camera is never
// on the stage: it is the picture-in-picture self view.

/** What the stage needs to know about one remote participant. */
export interface StageParticipant {
  peerId: string;
  /** A screen-share track is being received from them. */
  sharing: boolean;
}

/** One tile: someone's camera (or their placeholder) or someone's shared screen. */
export interface StageItem {
  kind: 'camera' | 'screen';
  peerId: string;
}

/**
 * - `empty`: nobody else is here (the stage shows a waiting message).
 * - `single`: one other person, large.
 * - `share`: a shared screen is large; every camera is a thumbnail (the sharer's first).
 * - `grid`: two or more other people, equal tiles.
 */
export type StageMode = 'empty' | 'single' | 'share' | 'grid';

export interface StageLayout {
  mode: StageMode;
  /** Large tiles: one in `single` and `share`, all cameras in `grid`, none in `empty`. */
  main: StageItem[];
  /** Small tiles in a strip beside or below the main one (only in `share`). */
  thumbnails: StageItem[];
}

/**
 * Decides the stage from the remote participants, in their join order.
 * The first sharer's screen wins the stage; a second share (rare) becomes a
 * thumbnail so nothing is hidden. Every participant keeps exactly one camera
 * tile, so their audio/name/placeholder always has a place.
 */
export function stageLayout(remotes: readonly StageParticipant[]): StageLayout {
  if (remotes.length === 0) return { mode: 'empty', main: [], thumbnails: [] };
  const cameras: StageItem[] = remotes.map((p) => ({ kind: 'camera', peerId: p.peerId }));
  const sharers = remotes.filter((p) => p.sharing);
  const first = sharers[0];
  if (first) {
    const sharerFirst = [...cameras.filter((c) => c.peerId === first.peerId), ...cameras.filter((c) => c.peerId !== first.peerId)];
    const otherScreens: StageItem[] = sharers.slice(1).map((p) => ({ kind: 'screen', peerId: p.peerId }));
    return { mode: 'share', main: [{ kind: 'screen', peerId: first.peerId }], thumbnails: [...sharerFirst, ...otherScreens] };
  }
  if (remotes.length === 1) return { mode: 'single', main: cameras, thumbnails: [] };
  return { mode: 'grid', main: cameras, thumbnails: [] };
}

/** Initials for a placeholder tile: first letters of the first and last words ("Dr Claire Martin" → "CM"). */
export function initials(name: string): string {
  const words = name
    .trim()
    .split(/\s+/)
    .filter((w) => w && !/^(dr|pr|mr|mrs|ms|mme|mlle|m)\.?$/i.test(w));
  const letters = (w: string | undefined) => (w ? (Array.from(w)[0] ?? '') : '');
  if (words.length === 0) return letters(name.trim()).toUpperCase() || '?';
  if (words.length === 1) return letters(words[0]).toUpperCase();
  return (letters(words[0]) + letters(words[words.length - 1])).toUpperCase();
}
