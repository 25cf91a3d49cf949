// ChatReassembly on its own: hostile chunks in, verified messages (or
// nothing) out, with an owner that records what it is told.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { ChatReassembly, INCOMPLETE_IDLE_MS, MAX_INCOMPLETE_PER_PEER, type Completed, type ReassemblyOwner } from '../../client/chat/chat-reassembly.ts';
import type { ChatKeys } from '../../client/chat/chat-types.ts';
import { CHAT_CHUNK_BYTES } from '../../shared/protocol/chat.ts';
import { FakeKeys, ROOM, craft, json, png, sameBytes, type Note } from './support/chat-relay.ts';

interface Setup {
  r: ChatReassembly;
  keys: FakeKeys;
  events: string[];
  completed: Completed[];
  have: Set<string>;
  clock: { now: number };
  /** peer id → participant id */
  people: Map<string, string>;
  give(peer: string, kid: number): Uint8Array;
  feed(notes: Note[]): void;
}

function setup(): Setup {
  const keys = new FakeKeys();
  const events: string[] = [];
  const completed: Completed[] = [];
  const have = new Set<string>();
  const clock = { now: 1_000_000 };
  const people = new Map<string, string>();
  const owner: ReassemblyOwner = {
    holding: (id) => (have.has(id) ? 'have' : 'new'),
    started: (s) => events.push(`started ${s.from} ${s.id.slice(0, 4)}`),
    progressed: () => undefined,
    completed: (c) => {
      completed.push(c);
      events.push(`completed ${c.from} ${c.id.slice(0, 4)} ${c.kind}`);
    },
    failed: (from, id) => events.push(`failed ${from} ${id.slice(0, 4)}`),
    duplicate: (from, id) => events.push(`duplicate ${from} ${id.slice(0, 4)}`),
  };
  const r = new ChatReassembly(
    { roomId: ROOM, keys: (): ChatKeys => keys, selfId: () => 'me-1', participantOf: (p) => people.get(p), now: () => clock.now },
    owner,
  );
  return {
    r,
    keys,
    events,
    completed,
    have,
    clock,
    people,
    give: (peer, kid) => {
      const k = randomBytes(32);
      keys.held.set(`${peer}/${kid}`, k);
      return k;
    },
    feed: (notes) => {
      for (const n of notes) r.receive({ ...n, box: new Uint8Array(n.box) });
    },
  };
}

const fileMeta = (data: Uint8Array, o: Record<string, unknown> = {}) =>
  json({ type: 'file', name: 'a.png', mime: 'image/png', size: data.length, sha256: bytesToHex(sha256(data)), ...o });
const split = (data: Uint8Array) => Array.from({ length: Math.ceil(data.length / CHAT_CHUNK_BYTES) }, (_, i) => data.subarray(i * CHAT_CHUNK_BYTES, (i + 1) * CHAT_CHUNK_BYTES));
const fileNotes = (from: string, kid: number, key: Uint8Array, data: Uint8Array, id?: string) => craft(from, kid, key, [fileMeta(data), ...split(data)], id ? { id } : {});

describe('ChatReassembly', () => {
  it('reassembles out of order, ignores duplicate chunks, hands over the verified bytes once', async () => {
    const s = setup();
    const key = s.give('doc-1', 3);
    const data = png(3 * CHAT_CHUNK_BYTES + 5, 2);
    const notes = fileNotes('doc-1', 3, key, data);
    s.feed([notes[2]!, notes[2]!, notes[4]!, notes[0]!, notes[1]!, notes[0]!, notes[3]!]);
    expect(s.completed).toHaveLength(1);
    const done = s.completed[0]!;
    expect(done.kind).toBe('file');
    if (done.kind === 'file') expect(sameBytes(new Uint8Array(await done.blob.arrayBuffer()), data)).toBe(true);
    expect({ dropped: s.r.dropped, couldNotDecrypt: s.r.couldNotDecrypt }).toEqual({ dropped: 0, couldNotDecrypt: 0 });
  });

  it('a message it already holds: an authentic chunk 0 is reported as a duplicate, a forged one is not, neither is counted', () => {
    const s = setup();
    const key = s.give('doc-1', 0);
    const [text] = craft('doc-1', 0, key, [json({ type: 'text', text: 'hi' })]);
    s.have.add(text!.id);
    s.feed([text!]);
    const [forged] = craft('doc-1', 0, randomBytes(32), [json({ type: 'text', text: 'hi' })], { id: text!.id });
    s.feed([forged!]);
    s.feed([{ ...text!, from: 'doc-2' }]); // relabelled by the server: does not open
    expect(s.events).toEqual([`duplicate doc-1 ${text!.id.slice(0, 4)}`]);
    expect({ dropped: s.r.dropped, couldNotDecrypt: s.r.couldNotDecrypt }).toEqual({ dropped: 0, couldNotDecrypt: 0 });
  });

  it('receipts: one chunk of ids, handed over; anything else shaped like one is dropped', () => {
    const s = setup();
    const key = s.give('pat-1', 1);
    const ids = [bytesToHex(randomBytes(16)), bytesToHex(randomBytes(16))];
    s.feed(craft('pat-1', 1, key, [json({ type: 'receipt', ids })]));
    expect(s.completed).toEqual([expect.objectContaining({ kind: 'receipt', ids, from: 'pat-1' })]);
    const bad = [
      [json({ type: 'receipt', ids: [] })],
      [json({ type: 'receipt', ids: Array.from({ length: 65 }, () => bytesToHex(randomBytes(16))) })],
      [json({ type: 'receipt', ids: ['../x'] })],
      [json({ type: 'receipt', ids, more: true })],
      [json({ type: 'receipt', ids }), new Uint8Array(10)], // receipts are one chunk
    ];
    for (const chunks of bad) s.feed(craft('pat-1', 1, key, chunks));
    expect(s.completed).toHaveLength(1);
    expect(s.r.dropped).toBe(bad.length);
    expect(s.events.filter((e) => e.startsWith('started'))).toEqual([]); // never shown as arriving
  });

  it('limits are per person: two peer ids of one participant share them', () => {
    const s = setup();
    s.people.set('doc-1', 'doctor').set('doc-2', 'doctor');
    const k1 = s.give('doc-1', 0);
    const k2 = s.give('doc-2', 1);
    const start = (peer: string, kid: number, key: Uint8Array) => s.feed(fileNotes(peer, kid, key, png(CHAT_CHUNK_BYTES + 1)).slice(0, 1));
    for (let i = 0; i < MAX_INCOMPLETE_PER_PEER - 1; i++) start('doc-1', 0, k1);
    start('doc-2', 1, k2);
    expect(s.r.dropped).toBe(0);
    start('doc-2', 1, k2);
    expect(s.r.dropped).toBe(1);
  });

  it('a transmission started again from chunk 0 (other key, or the same person under a new peer id) replaces the unfinished one quietly', async () => {
    const s = setup();
    s.people.set('doc-1', 'doctor').set('doc-2', 'doctor').set('int-1', 'interpreter');
    const data = png(3 * CHAT_CHUNK_BYTES, 7);
    const first = fileNotes('doc-1', 0, s.give('doc-1', 0), data);
    s.feed(first.slice(0, 2));
    // The same sender, again from the start under its next key (e.g. after we rejoined).
    const again = fileNotes('doc-1', 1, s.give('doc-1', 1), data, first[0]!.id);
    s.feed(again.slice(0, 3));
    // Someone else sending the same message meanwhile is not mixed in.
    s.feed(fileNotes('int-1', 5, s.give('int-1', 5), data, first[0]!.id));
    // The sender rejoined under a new peer id and starts over.
    const rejoined = fileNotes('doc-2', 9, s.give('doc-2', 9), data, first[0]!.id);
    s.feed(rejoined);
    expect(s.completed.map((c) => c.from)).toEqual(['doc-2']);
    const done = s.completed[0]!;
    if (done.kind === 'file') expect(sameBytes(new Uint8Array(await done.blob.arrayBuffer()), data)).toBe(true);
    expect({ dropped: s.r.dropped, couldNotDecrypt: s.r.couldNotDecrypt }).toEqual({ dropped: 0, couldNotDecrypt: 0 });
  });

  it('dropFrom(quietly) and dropAll() fail unfinished messages without counting them; the next transmission is accepted', () => {
    const s = setup();
    const key = s.give('doc-1', 0);
    const data = png(2 * CHAT_CHUNK_BYTES);
    const notes = fileNotes('doc-1', 0, key, data);
    s.feed(notes.slice(0, 2));
    expect(s.r.dropFrom('doc-1', true)).toBe(true);
    expect(s.events.at(-1)).toBe(`failed doc-1 ${notes[0]!.id.slice(0, 4)}`);
    s.feed(notes.slice(0, 2));
    expect(s.r.dropAll()).toBe(true);
    s.feed(notes);
    expect(s.completed).toHaveLength(1);
    expect(s.r.dropped).toBe(0);
    // Loudly (a peer that left for good): counted.
    s.feed(fileNotes('doc-1', 0, key, data).slice(0, 1));
    s.r.dropFrom('doc-1');
    expect(s.r.dropped).toBe(1);
  });

  it('a message that could not be decrypted stops counting once it arrives intact', () => {
    const s = setup();
    const [early] = craft('doc-1', 4, randomBytes(32), [json({ type: 'text', text: 'avant la clé' })]);
    s.feed([early!]); // no key for KID 4 yet
    expect(s.r.couldNotDecrypt).toBe(1);
    const key = s.give('doc-1', 5);
    s.feed(craft('doc-1', 5, key, [json({ type: 'text', text: 'avant la clé' })], { id: early!.id }));
    expect(s.completed.map((c) => (c.kind === 'text' ? c.text : ''))).toEqual(['avant la clé']);
    expect(s.r.couldNotDecrypt).toBe(0);
  });

  it('drops unfinished messages idle for 60 s', () => {
    const s = setup();
    const key = s.give('doc-1', 0);
    s.feed(fileNotes('doc-1', 0, key, png(2 * CHAT_CHUNK_BYTES)).slice(0, 1));
    s.clock.now += INCOMPLETE_IDLE_MS;
    expect(s.r.sweep()).toBe(false);
    s.clock.now += 1;
    expect(s.r.sweep()).toBe(true);
    expect(s.r.dropped).toBe(1);
  });

  it('ignores what claims to come from ourselves', () => {
    const s = setup();
    const key = s.give('me-1', 0);
    s.feed(craft('me-1', 0, key, [json({ type: 'text', text: 'echo' })]));
    expect(s.events).toEqual([]);
  });
});
