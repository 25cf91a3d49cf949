// Issue 12, item 10: opening /consultation/<id>#k=<other> must not silently
// replace the room secret the doctor's browser kept (client/call/secret-choice.ts).
import { describe, expect, it } from 'vitest';
import { chooseSecret } from '../../client/call/secret-choice.ts';

const a = new Uint8Array(32).fill(1);
const a2 = new Uint8Array(32).fill(1);
const b = new Uint8Array(32).fill(2);

describe('chooseSecret', () => {
  it('a different key in the link is a conflict to settle, never a silent replacement', () => {
    expect(chooseSecret(b, a)).toEqual({ kind: 'conflict', fromLink: b, remembered: a });
  });

  it('uses the one there is, and remembers a link’s key only when none was kept', () => {
    expect(chooseSecret(a, undefined)).toEqual({ kind: 'use', secret: a, remember: true });
    expect(chooseSecret(undefined, a)).toEqual({ kind: 'use', secret: a, remember: false });
    expect(chooseSecret(a2, a)).toEqual({ kind: 'use', secret: a2, remember: false });
    expect(chooseSecret(undefined, undefined)).toEqual({ kind: 'none' });
  });
});
