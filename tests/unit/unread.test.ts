import { describe, expect, it } from 'vitest';
import { countUnread } from '../../client/ui/call/side-panel/unread.ts';

describe('countUnread', () => {
  const msgs = [
    { id: '1', from: 'peer-a' },
    { id: '2', from: 'me' },
    { id: '3', from: 'peer-b' },
  ];
  it('counts messages from others not yet seen, never our own', () => {
    expect(countUnread(msgs, new Set())).toBe(2);
    expect(countUnread(msgs, new Set(['1']))).toBe(1);
    expect(countUnread(msgs, new Set(['1', '3']))).toBe(0);
    expect(countUnread([{ id: '2', from: 'me' }], new Set())).toBe(0);
  });
  it('counts by id, so dropped or reordered messages do not skew the count', () => {
    expect(countUnread([msgs[2]!, msgs[0]!], new Set(['3']))).toBe(1);
    expect(countUnread([], new Set(['1', '3']))).toBe(0);
  });
});
