// Unread messages for the Chat button's badge. Pure (unit-tested in
// tests/unit/unread.test.ts).

/** The two fields of a chat message this needs (ChatMessage has more). */
export interface MessageRef {
  id: string;
  from: string;
}

/**
 * Messages from others whose id is not in `seen`. Our own messages are never
 * unread. Counting ids (not a length) stays right when messages are
 * replaced or dropped (the session keeps at most MAX_MESSAGES).
 */
export function countUnread(messages: readonly MessageRef[], seen: ReadonlySet<string>): number {
  let n = 0;
  for (const m of messages) if (m.from !== 'me' && !seen.has(m.id)) n++;
  return n;
}
