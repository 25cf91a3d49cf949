import { describe, expect, it } from 'vitest';
import { initials, stageLayout } from '../../client/ui/call/stage/stage-layout.ts';

const p = (peerId: string, sharing = false) => ({ peerId, sharing });

describe('stageLayout', () => {
  it('is empty when nobody else is here', () => {
    expect(stageLayout([])).toEqual({ mode: 'empty', main: [], thumbnails: [] });
  });

  it('puts the other person alone on the stage in a 1:1 call', () => {
    expect(stageLayout([p('a')])).toEqual({ mode: 'single', main: [{ kind: 'camera', peerId: 'a' }], thumbnails: [] });
  });

  it('gives a screen share the stage, the sharer’s camera first among the thumbnails', () => {
    expect(stageLayout([p('a'), p('b', true)])).toEqual({
      mode: 'share',
      main: [{ kind: 'screen', peerId: 'b' }],
      thumbnails: [
        { kind: 'camera', peerId: 'b' },
        { kind: 'camera', peerId: 'a' },
      ],
    });
    expect(stageLayout([p('a', true)]).thumbnails).toEqual([{ kind: 'camera', peerId: 'a' }]);
  });

  it('keeps a second share visible as a thumbnail', () => {
    const l = stageLayout([p('a', true), p('b', true)]);
    expect(l.main).toEqual([{ kind: 'screen', peerId: 'a' }]);
    expect(l.thumbnails).toContainEqual({ kind: 'screen', peerId: 'b' });
  });

  it('makes a grid of cameras from three participants (two others) on', () => {
    expect(stageLayout([p('a'), p('b')])).toEqual({
      mode: 'grid',
      main: [
        { kind: 'camera', peerId: 'a' },
        { kind: 'camera', peerId: 'b' },
      ],
      thumbnails: [],
    });
  });

  it('gives every participant exactly one camera tile, whatever the mode', () => {
    for (const people of [[p('a')], [p('a'), p('b')], [p('a', true), p('b'), p('c', true)]]) {
      const l = stageLayout(people);
      const cams = [...l.main, ...l.thumbnails].filter((i) => i.kind === 'camera').map((i) => i.peerId);
      expect(cams.sort()).toEqual(people.map((x) => x.peerId).sort());
    }
  });
});

describe('initials', () => {
  it('takes the first and last words, skipping titles', () => {
    expect(initials('Dr Claire Martin')).toBe('CM');
    expect(initials('camille durand')).toBe('CD');
    expect(initials('Jean-Luc de la Tour')).toBe('JT');
    expect(initials('Madonna')).toBe('M');
    expect(initials('  ')).toBe('?');
    expect(initials('Dr')).toBe('D');
    expect(initials('Élodie Ölund')).toBe('ÉÖ');
  });
});
