// ChatSession end to end between two or three participants, through an
// in-memory relay that validates like the real server and client, and that
// a test can turn hostile (tamper, replay, reorder, forge).
import { concatBytes, randomBytes } from '@noble/hashes/utils.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatInputError, MAX_PENDING_BYTES_PER_PEER, sanitizeFileName, type ChatKeys, type ChatSignalling } from '../../client/chat/chat-session.ts';
import type { SignallingClient } from '../../client/call/signalling-client.ts';
import { deriveChatKey, sealChatChunk } from '../../shared/crypto/chat-crypto.ts';
import { deriveKeyAndSalt } from '../../shared/crypto/sframe.ts';
import { SUITE } from '../../shared/crypto/media-suite.ts';
import { KeyAgreement } from '../../shared/e2ee/key-agreement.ts';
import { CHAT_CHUNK_BYTES, CHAT_MAX_CHUNKS, CHAT_MAX_FILE_BYTES } from '../../shared/protocol/chat.ts';
import {
  HASH0,
  PNG_MAGIC,
  ROOM,
  Relay,
  blobBytes,
  closeAll,
  craft,
  flipByte,
  giveKey,
  json,
  msgs,
  party,
  png,
  sameBytes,
  type Party,
} from './support/chat-relay.ts';

afterEach(closeAll);

// The real client must fit what ChatSession asks for (compile-time check).
const _fits: ChatSignalling = null as unknown as SignallingClient;
void _fits;

function trio() {
  const relay = new Relay();
  const a = party(relay, 'alice');
  const b = party(relay, 'bob');
  const c = party(relay, 'carol');
  giveKey(a, 0x00, [b, c]);
  giveKey(b, 0x10, [a, c]);
  giveKey(c, 0x20, [a, b]);
  return { relay, a, b, c };
}

// ------------------------------------------------------------------ tests

describe('ChatSession: delivery', () => {
  it('a text reaches every other participant; the server sees only ciphertext', async () => {
    const { relay, a, b, c } = trio();
    const id = await a.chat.sendText('  Bonjour docteur, voici mes résultats 🩺  ');
    expect(msgs(a)).toEqual([
      expect.objectContaining({ id, from: 'me', kind: 'text', text: 'Bonjour docteur, voici mes résultats 🩺', status: 'sent', progress: 1 }),
    ]);
    for (const p of [b, c]) {
      expect(msgs(p)).toEqual([
        expect.objectContaining({ id, from: 'alice', kind: 'text', text: 'Bonjour docteur, voici mes résultats 🩺', status: 'received', progress: 1 }),
      ]);
      expect(p.chat.snapshot().couldNotDecrypt).toBe(0);
    }
    expect(relay.seen).toHaveLength(1);
    const onServer = Buffer.from(relay.seen[0]!.box);
    expect(onServer.includes(Buffer.from('Bonjour'))).toBe(false);
    expect(onServer.includes(Buffer.from('docteur'))).toBe(false);
  });

  it('a ~2 MB file arrives byte for byte, with monotonic progress reaching 1 on both sides', async () => {
    const { relay, a, b } = trio();
    const data = png(2_000_000 + 12_345, 7);
    const progress = { a: [] as number[], b: [] as number[] };
    const statuses = new Set<string>();
    a.chat.subscribe(() => {
      const m = msgs(a)[0];
      if (m) progress.a.push(m.progress);
    });
    b.chat.subscribe(() => {
      const m = msgs(b)[0];
      if (m) {
        progress.b.push(m.progress);
        statuses.add(m.status);
      }
    });
    const id = await a.chat.sendFile(new File([data as BlobPart], 'scan IRM.png', { type: 'image/png' }));

    const total = 1 + Math.ceil(data.length / CHAT_CHUNK_BYTES);
    expect(relay.seen.filter((n) => n.id === id && n.from === 'alice')).toHaveLength(total);
    expect(new Set(relay.seen.map((n) => n.kid))).toEqual(new Set([0x00]));

    const got = msgs(b)[0];
    expect(got).toMatchObject({ id, from: 'alice', kind: 'file', status: 'received', progress: 1 });
    expect(got?.file).toMatchObject({ name: 'scan IRM.png', mime: 'image/png', size: data.length });
    const blob = b.urls.get(got!.file!.url!)!;
    expect(blob.type).toBe('image/png');
    expect(sameBytes(await blobBytes(b, got), data)).toBe(true);
    expect(msgs(a)[0]).toMatchObject({ status: 'sent', progress: 1 });

    for (const side of [progress.a, progress.b]) {
      expect(side.at(-1)).toBe(1);
      expect(side.every((p, i) => i === 0 || p >= side[i - 1]!)).toBe(true);
      expect(side.filter((p) => p > 0 && p < 1).length).toBeGreaterThan(10); // progress is shown, not just start/end
    }
    expect([...statuses]).toEqual(['receiving', 'received']);
    // Nothing readable on the server: no 32-byte run of the file appears in what it relayed.
    const probe = Buffer.from(data.subarray(1_000_000, 1_000_032));
    expect(relay.seen.some((n) => Buffer.from(n.box).includes(probe))).toBe(false);
  });

  it('reassembles chunks that arrive out of order, and ignores replayed ones', async () => {
    const { relay, a, b } = trio();
    const data = png(5 * CHAT_CHUNK_BYTES + 99, 3);
    relay.hold = true;
    await a.chat.sendFile(new File([data as BlobPart], 'x.png', { type: 'image/png' }));
    const toBob = relay.held.filter((h) => h.to === 'bob');
    relay.held.splice(0);
    // Data chunks reversed, each twice, and the metadata last.
    const [first, ...rest] = toBob;
    relay.held.push(...rest.reverse().flatMap((h) => [h, h]), first!);
    relay.release();
    expect(msgs(b)).toHaveLength(1);
    const done = msgs(b)[0]!;
    expect(done.status).toBe('received');
    expect(sameBytes(await blobBytes(b, done), data)).toBe(true);
    // Replaying the whole message later changes nothing: no second message, no new object URL.
    for (const h of toBob) relay.deliver('bob', h.note);
    expect(msgs(b)).toHaveLength(1);
    expect(msgs(b)[0]).toBe(done);
    expect(b.urls.size).toBe(1);
    expect(b.chat.snapshot()).toMatchObject({ couldNotDecrypt: 0, dropped: 0 });
  });

  it('a key switch in the middle of a file does not break it: one key for the whole message', async () => {
    const { relay, a, b, c } = trio();
    const data = png(6 * CHAT_CHUNK_BYTES, 5);
    let n = 0;
    relay.tamper = (to, note) => {
      if (to === 'bob' && ++n === 3) {
        // Like KeyAgreement: the sender moves on and wipes its old key, receivers drop it.
        const old = a.keys.own!.key;
        giveKey(a, 0x01, [b, c]);
        old.fill(0);
        b.keys.held.delete('alice/0');
        c.keys.held.delete('alice/0');
      }
      return note;
    };
    await a.chat.sendFile(new File([data as BlobPart], 'x.png', { type: 'image/png' }));
    expect(new Set(relay.seen.map((s) => s.kid))).toEqual(new Set([0]));
    expect(sameBytes(await blobBytes(b, msgs(b)[0]), data)).toBe(true);
    // The next message uses the new key.
    await a.chat.sendText('after');
    expect(relay.seen.at(-1)?.kid).toBe(1);
    expect(msgs(c).map((m) => m.text ?? m.file?.name)).toEqual(['x.png', 'after']);
  });

  it('received files get sanitized names, object URLs, and close() revokes them', async () => {
    const { a, b } = trio();
    await a.chat.sendFile(new File([png(100) as BlobPart], '../../etc/\u202Egnp.exe', { type: 'image/png' }));
    const m = msgs(b)[0]!;
    expect(m.file!.name).not.toMatch(/[/\\\u202E]/);
    expect(m.file!.name.endsWith('.png')).toBe(true);
    b.chat.close();
    expect(b.revoked).toEqual([m.file!.url]);
    // Closed: later chunks are ignored, nothing throws.
    await a.chat.sendText('after close');
    expect(msgs(b)).toHaveLength(0);
    expect(b.sig.listenerCount()).toBe(0);
  });
});

describe('ChatSession: what the sender refuses', () => {
  it('refuses empty and over-long text, and unsupported, empty, oversized or mislabelled files', async () => {
    const { relay, a } = trio();
    const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof ChatInputError ? e.code : String(e)));
    expect(await code(a.chat.sendText('   \n '))).toBe('empty');
    expect(await code(a.chat.sendText('x'.repeat(4001)))).toBe('too-long');
    expect(await code(a.chat.sendText('x'.repeat(4000)))).toBe('ok');
    expect(await code(a.chat.sendFile(new File(['<svg/>'], 'a.svg', { type: 'image/svg+xml' })))).toBe('unsupported-type');
    expect(await code(a.chat.sendFile(new File(['<html>'], 'a.html', { type: 'text/html' })))).toBe('unsupported-type');
    expect(await code(a.chat.sendFile(new File(['%PDF-1.7'], 'a.exe', { type: '' })))).toBe('unsupported-type');
    expect(await code(a.chat.sendFile(new File([], 'a.pdf', { type: 'application/pdf' })))).toBe('empty');
    const big = new Uint8Array(CHAT_MAX_FILE_BYTES + 1);
    big.set(PNG_MAGIC);
    expect(await code(a.chat.sendFile(new File([big], 'a.png', { type: 'image/png' })))).toBe('too-large');
    expect(await code(a.chat.sendFile(new File(['<html><script>'], 'a.png', { type: 'image/png' })))).toBe('unsupported-type');
    // By extension when the browser gives no type; image/jpg is JPEG.
    expect(await code(a.chat.sendFile(new File(['%PDF-1.7\n'], 'ordonnance.pdf', { type: '' })))).toBe('ok');
    expect(await code(a.chat.sendFile(new File([new Uint8Array([0xff, 0xd8, 0xff, 1])], 'p.jpg', { type: 'image/jpg' })))).toBe('ok');
    expect(msgs(a).map((m) => m.file?.mime ?? 'text')).toEqual(['text', 'application/pdf', 'image/jpeg']);
    expect(relay.seen).toHaveLength(1 + 2 + 2);
  });

  it('without a key, nothing is sent and the message is marked failed (no-key)', async () => {
    const relay = new Relay();
    const a = party(relay, 'alice');
    party(relay, 'bob');
    await a.chat.sendText('hello');
    expect(msgs(a)[0]).toMatchObject({ status: 'failed', error: 'no-key' });
    expect(relay.seen).toHaveLength(0);
  });

  it('retries rate-limited or unacknowledged chunks; other refusals fail the message', async () => {
    const { a, b } = trio();
    a.sig.failures.push({ code: 'rate-limited' }, { code: 'timeout' });
    await a.chat.sendText('one');
    expect(msgs(a)[0]).toMatchObject({ status: 'sent' });
    expect(msgs(b).map((m) => m.text)).toEqual(['one']);
    a.sig.failures.push({ code: 'forbidden' });
    await a.chat.sendText('two');
    expect(msgs(a)[1]).toMatchObject({ status: 'failed', error: 'network' });
    expect(msgs(b).map((m) => m.text)).toEqual(['one']);
    // Send again works once the server accepts.
    await a.chat.resend(msgs(a)[1]!.id);
    expect(msgs(a)[1]).toMatchObject({ status: 'sent', progress: 1 });
    expect(msgs(a)[1]).not.toHaveProperty('error');
    expect(msgs(b).map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('paces chunks so chat leaves the server request budget to key agreement', async () => {
    const relay = new Relay();
    const a = party(relay, 'alice', { pace: { burst: 3, perSecond: 50 } });
    const b = party(relay, 'bob');
    giveKey(a, 0, [b]);
    const t0 = Date.now();
    await a.chat.sendFile(new File([png(9 * CHAT_CHUNK_BYTES) as BlobPart], 'x.png', { type: 'image/png' }));
    // 10 chunks, 3 at once, then 50/s: at least 7 / 50 s.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(130);
    expect(msgs(b)[0]?.status).toBe('received');
  });
});

describe('ChatSession: hostile input is dropped, never shown, never thrown', () => {
  function setup() {
    const relay = new Relay();
    const a = party(relay, 'alice');
    const b = party(relay, 'bob');
    const aliceKey = giveKey(a, 0x00, [b]);
    giveKey(b, 0x10, [a]);
    const shown = () => msgs(b).filter((m) => m.status !== 'failed');
    return { relay, a, b, aliceKey, shown };
  }

  it('a tampered chunk: the message could not be decrypted, and its content is never shown', async () => {
    const { relay, a, b, shown } = setup();
    relay.tamper = (_to, n) => (n.index === 0 ? { ...n, box: flipByte(n.box, 30) } : n);
    await a.chat.sendText('secret');
    expect(msgs(b)).toHaveLength(0);
    expect(b.chat.snapshot().couldNotDecrypt).toBe(1);

    // A file whose 3rd data chunk is tampered: shown as failed, with no content or URL.
    relay.tamper = (_to, n) => (n.index === 3 ? { ...n, box: flipByte(n.box, n.box.length - 1) } : n);
    await a.chat.sendFile(new File([png(5 * CHAT_CHUNK_BYTES) as BlobPart], 'x.png', { type: 'image/png' }));
    expect(b.chat.snapshot().couldNotDecrypt).toBe(2); // counted once per message
    expect(shown()).toHaveLength(0);
    expect(msgs(b)[0]).toMatchObject({ status: 'failed' });
    expect(msgs(b)[0]?.file?.url).toBeUndefined();
    expect(b.urls.size).toBe(0);
  });

  it('a chunk under another KID, or claimed from another sender, does not decrypt', async () => {
    const { relay, a, b } = setup();
    b.keys.held.set('alice/1', randomBytes(32)); // Bob holds another key of Alice's
    relay.tamper = (_to, n) => ({ ...n, kid: 1 });
    await a.chat.sendText('kid 1?');
    relay.tamper = (_to, n) => ({ ...n, kid: 2 }); // a KID Bob has no key for
    await a.chat.sendText('kid 2?');
    b.keys.held.set('mallory/0', a.keys.own!.key.slice()); // even with the same key bytes
    relay.tamper = (_to, n) => ({ ...n, from: 'mallory' });
    await a.chat.sendText('from mallory?');
    relay.tamper = (_to, n) => ({ ...n, from: 'nobody' }); // unknown sender
    await a.chat.sendText('from nobody?');
    expect(msgs(b)).toHaveLength(0);
    expect(b.chat.snapshot().couldNotDecrypt).toBe(4);
  });

  it('a chunk sealed for another room, message or position does not decrypt', () => {
    const { relay, b, aliceKey } = setup();
    const [other] = craft('alice', 0, aliceKey, [json({ type: 'text', text: 'elsewhere' })], { room: 'room-2' });
    relay.deliver('bob', other!);
    const [moved] = craft('alice', 0, aliceKey, [json({ type: 'text', text: 'moved' })]);
    relay.deliver('bob', { ...moved!, id: 'f'.repeat(32) });
    relay.deliver('bob', { ...moved!, total: 2 });
    expect(msgs(b)).toHaveLength(0);
    expect(b.chat.snapshot().couldNotDecrypt).toBe(3);
  });

  // Each is delivered alone (the rest of its message never comes): it must be
  // refused on sight, not shown as "receiving" and left to time out.
  const fileMeta = (o: Record<string, unknown>) => json({ type: 'file', name: 'a.pdf', mime: 'application/pdf', size: 10, sha256: HASH0, ...o });
  it.each([
    ['text over 4000 characters', json({ type: 'text', text: 'x'.repeat(4001) }), 1],
    ['empty text', json({ type: 'text', text: '' }), 1],
    ['not JSON', new TextEncoder().encode('{"type":"text",'), 1],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 1],
    ['unknown field', json({ type: 'text', text: 'hi', html: '<b>' }), 1],
    ['unknown type', json({ type: 'voice', text: 'hi' }), 1],
    ['file over 20 MiB', fileMeta({ size: CHAT_MAX_FILE_BYTES + 1 }), CHAT_MAX_CHUNKS],
    ['disallowed type (SVG)', fileMeta({ name: 'a.svg', mime: 'image/svg+xml' }), 2],
    ['disallowed type (HTML)', fileMeta({ name: 'a.html', mime: 'text/html' }), 2],
    ['size as a string', fileMeta({ size: '10' }), 2],
    ['bad hash', fileMeta({ sha256: 'zz' }), 2],
    ['total too large for the size', fileMeta({ size: 10 }), 3],
    ['total too small for the size', fileMeta({ size: 3 * CHAT_CHUNK_BYTES }), 3],
    ['text announcing more chunks', json({ type: 'text', text: 'hi' }), 2],
  ] as const)('drops wrong metadata at once: %s', (_what, meta, total) => {
    const { relay, b, aliceKey } = setup();
    relay.deliver('bob', craft('alice', 0, aliceKey, [meta], { total })[0]!);
    expect(msgs(b)).toHaveLength(0);
    expect(b.chat.snapshot().dropped).toBe(1);
    expect(b.chat.snapshot().couldNotDecrypt).toBe(0);
  });

  it.each([
    ['shorter than announced', 10],
    ['longer than a chunk', CHAT_CHUNK_BYTES + 1],
    ['empty', 0],
  ])('drops a message at once when a data chunk is the wrong size: %s', (_what, length) => {
    const { relay, b, aliceKey } = setup();
    const size = 2 * CHAT_CHUNK_BYTES + 10; // chunks 1 and 2 are full, chunk 3 has 10 bytes
    const notes = craft('alice', 0, aliceKey, [fileMeta({ size }), new Uint8Array(length)], { total: 4 });
    relay.deliver('bob', notes[0]!);
    expect(msgs(b)[0]?.status).toBe('receiving');
    relay.deliver('bob', notes[1]!);
    expect(msgs(b)[0]?.status).toBe('failed');
    expect(b.chat.snapshot().dropped).toBe(1);
  });

  it('a chunk forged by the server in the clear is not accepted', () => {
    const { relay, b } = setup();
    const forged = json({ type: 'text', text: 'hi' });
    const id = 'e'.repeat(32);
    relay.deliver('bob', { from: 'alice', kid: 0, id, index: 0, total: 1, box: forged });
    relay.deliver('bob', { from: 'alice', kid: 0, id: 'f'.repeat(32), index: 0, total: 1, box: concatBytes(forged, new Uint8Array(40)) });
    expect(msgs(b)).toHaveLength(0);
    expect(b.chat.snapshot().couldNotDecrypt).toBe(2);
  });

  it('drops a finished file whose hash or content does not match its metadata', async () => {
    const { relay, b, aliceKey } = setup();
    const body = png(100);
    const { sha256 } = await import('@noble/hashes/sha2.js');
    const hash = Buffer.from(sha256(body)).toString('hex');
    const wrongHash = json({ type: 'file', name: 'a.png', mime: 'image/png', size: 100, sha256: HASH0 });
    for (const n of craft('alice', 0, aliceKey, [wrongHash, body])) relay.deliver('bob', n);
    const html = new TextEncoder().encode('<html><script>alert(1)</script>');
    const htmlHash = Buffer.from(sha256(html)).toString('hex');
    const disguised = json({ type: 'file', name: 'a.png', mime: 'image/png', size: html.length, sha256: htmlHash });
    for (const n of craft('alice', 0, aliceKey, [disguised, html])) relay.deliver('bob', n);
    expect(b.urls.size).toBe(0);
    expect(b.chat.snapshot().dropped).toBe(2);
    // Control: the right hash and content are accepted.
    const good = json({ type: 'file', name: 'a.png', mime: 'image/png', size: 100, sha256: hash });
    for (const n of craft('alice', 0, aliceKey, [good, body])) relay.deliver('bob', n);
    expect(msgs(b).filter((m) => m.status === 'received')).toHaveLength(1);
  });

  it('ignores malformed notifications and out-of-range indexes without throwing', () => {
    const { relay, b, aliceKey } = setup();
    const [n] = craft('alice', 0, aliceKey, [json({ type: 'text', text: 'hi' })]);
    const bad: unknown[] = [
      null,
      42,
      'chatChunk',
      {},
      { ...n, index: 1 }, // index beyond total
      { ...n, index: -1 },
      { ...n, total: 0 },
      { ...n, total: 100_000 },
      { ...n, kid: 256 },
      { ...n, id: 'not-hex' },
      { ...n, from: '../alice' },
      { ...n, box: 'AAAA' },
      { ...n, box: new ArrayBuffer(0) },
      { ...n, box: new ArrayBuffer(CHAT_CHUNK_BYTES + 2048) },
    ];
    for (const raw of bad) expect(() => b.sig.emit('chatChunk', raw)).not.toThrow();
    expect(msgs(b)).toHaveLength(0);
    relay.deliver('bob', n!); // control: the well-formed one goes through
    expect(msgs(b).map((m) => m.text)).toEqual(['hi']);
  });

  it('an unexpected failure inside never escapes the notification handler', () => {
    const { relay, b, aliceKey } = setup();
    b.keys.receiveKey = () => {
      throw new Error('key store broke');
    };
    const [n] = craft('alice', 0, aliceKey, [json({ type: 'text', text: 'hi' })]);
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      expect(() => relay.deliver('bob', n!)).not.toThrow();
    } finally {
      console.warn = warn;
    }
    expect(msgs(b)).toHaveLength(0);
  });

  it('ignores chunks that claim to come from ourselves', () => {
    const { relay, b } = setup();
    const bobKey = b.keys.own!.key;
    b.keys.held.set('bob/16', bobKey);
    for (const n of craft('bob', 0x10, bobKey, [json({ type: 'text', text: 'echo' })])) relay.deliver('bob', n);
    expect(msgs(b)).toHaveLength(0);
  });
});

describe('ChatSession: bounded memory for unfinished messages', () => {
  const meta = (size: number) => json({ type: 'file', name: 'a.pdf', mime: 'application/pdf', size, sha256: HASH0 });

  it(`at most 4 unfinished messages per sender`, () => {
    const relay = new Relay();
    const a = party(relay, 'alice');
    const b = party(relay, 'bob');
    const key = giveKey(a, 0, [b]);
    const starts = Array.from({ length: 5 }, () => craft('alice', 0, key, [meta(100), new Uint8Array(100)]));
    for (const s of starts) relay.deliver('bob', s[0]!);
    expect(msgs(b).map((m) => m.status)).toEqual(['receiving', 'receiving', 'receiving', 'receiving']);
    expect(b.chat.snapshot().dropped).toBe(1);
    // The 5th's remaining chunk is ignored quietly (not counted again).
    relay.deliver('bob', starts[4]![1]!);
    expect(b.chat.snapshot().dropped).toBe(1);
    expect(msgs(b)).toHaveLength(4);
  });

  it('at most 25 MiB announced or held per sender', () => {
    const relay = new Relay();
    const a = party(relay, 'alice');
    const b = party(relay, 'bob');
    const key = giveKey(a, 0, [b]);
    const big = 20 * 1024 * 1024;
    const first = craft('alice', 0, key, [meta(big)], { total: 1 + big / CHAT_CHUNK_BYTES });
    const second = craft('alice', 0, key, [meta(big)], { total: 1 + big / CHAT_CHUNK_BYTES });
    relay.deliver('bob', first[0]!);
    relay.deliver('bob', second[0]!);
    expect(msgs(b).map((m) => m.status)).toEqual(['receiving']);
    expect(b.chat.snapshot().dropped).toBe(1);
    // Data chunks before any metadata count as held bytes.
    const total = CHAT_MAX_CHUNKS;
    const id = 'c'.repeat(32);
    const chunk = new Uint8Array(CHAT_CHUNK_BYTES);
    const chatKey = deriveChatKey(key);
    let delivered = 0;
    while (b.chat.snapshot().dropped === 1 && delivered < 200) {
      const index = ++delivered;
      relay.deliver('bob', { from: 'alice', kid: 0, id, index, total, box: sealChatChunk(chatKey, { roomId: ROOM, from: 'alice', kid: 0, id, index, total }, chunk) });
    }
    expect(b.chat.snapshot().dropped).toBe(2);
    // 20 MiB announced + held chunks crossed 25 MiB at the first chunk over.
    expect(delivered).toBe(Math.floor((MAX_PENDING_BYTES_PER_PEER - big) / CHAT_CHUNK_BYTES) + 1);
  });

  it('drops unfinished messages idle for 60 s, and those of a participant who left', () => {
    let now = 1_000_000;
    const relay = new Relay();
    const a = party(relay, 'alice');
    const b = party(relay, 'bob', { now: () => now });
    const key = giveKey(a, 0, [b]);
    const c = party(relay, 'carol');
    const carolKey = giveKey(c, 0x20, [b]);
    const slow = craft('alice', 0, key, [meta(100), new Uint8Array(100)]);
    relay.deliver('bob', slow[0]!);
    now += 59_000;
    relay.deliver('bob', craft('carol', 0x20, carolKey, [json({ type: 'text', text: 'tick' })])[0]!);
    expect(msgs(b)[0]?.status).toBe('receiving');
    now += 2_000;
    relay.deliver('bob', craft('carol', 0x20, carolKey, [json({ type: 'text', text: 'tock' })])[0]!);
    expect(msgs(b)[0]?.status).toBe('failed');
    relay.deliver('bob', slow[1]!); // too late: ignored
    expect(msgs(b)[0]?.status).toBe('failed');

    const other = craft('carol', 0x20, carolKey, [meta(100), new Uint8Array(100)]);
    relay.deliver('bob', other[0]!);
    expect(msgs(b).at(-1)?.status).toBe('receiving');
    relay.leave('carol');
    expect(msgs(b).at(-1)?.status).toBe('failed');
    expect(b.chat.snapshot().dropped).toBe(2);
  });
});

describe('ChatSession: bounded memory for finished messages', () => {
  it('releases the oldest received files beyond the storage limit: no longer openable or re-sendable', async () => {
    const relay = new Relay();
    const a = party(relay, 'alice');
    const b = party(relay, 'bob', { maxStoredFileBytes: 250_000 });
    giveKey(a, 0, [b]);
    giveKey(b, 0x10, [a]);
    for (const seed of [1, 2, 3]) await a.chat.sendFile(new File([png(100_000, seed) as BlobPart], `f${seed}.png`, { type: 'image/png' }));
    const [f1, f2, f3] = msgs(b);
    expect(f1?.file).toMatchObject({ name: 'f1.png', expired: true });
    expect(f1?.file?.url).toBeUndefined();
    expect(b.revoked).toEqual(['blob:test/bob/1']);
    expect(f2?.file?.url).toBe('blob:test/bob/2');
    expect(f3?.file?.url).toBe('blob:test/bob/3');
    await b.chat.resend(f1!.id);
    expect(msgs(b)[0]?.resend).toEqual({ progress: 0, status: 'failed', error: 'unavailable' });
    // A single file larger than the limit is still kept (the newest always is).
    const big = png(300_000, 4);
    await a.chat.sendFile(new File([big as BlobPart], 'big.png', { type: 'image/png' }));
    expect(sameBytes(await blobBytes(b, msgs(b)[3]), big)).toBe(true);
  });

  it('forgets the oldest messages beyond the message limit, and does not show them again when replayed', async () => {
    const relay = new Relay();
    const a = party(relay, 'alice');
    const b = party(relay, 'bob', { maxMessages: 3 });
    giveKey(a, 0, [b]);
    for (const text of ['one', 'two', 'three', 'four', 'five']) await a.chat.sendText(text);
    expect(msgs(b).map((m) => m.text)).toEqual(['three', 'four', 'five']);
    const snap = b.chat.snapshot();
    expect(b.chat.snapshot()).toBe(snap); // stable between changes (useSyncExternalStore)
    for (const n of relay.seen.slice(0, 2)) relay.deliver('bob', n);
    expect(msgs(b).map((m) => m.text)).toEqual(['three', 'four', 'five']);
  });
});

describe('ChatSession: late joiners and re-sending', () => {
  it('a participant without the sender key cannot read; a re-send under the new key reaches it, once', async () => {
    const relay = new Relay();
    const a = party(relay, 'alice');
    const b = party(relay, 'bob');
    giveKey(a, 0x00, [b]);
    giveKey(b, 0x10, [a]);
    const text = await a.chat.sendText('avant votre arrivée');
    const data = png(3 * CHAT_CHUNK_BYTES + 5, 9);
    const file = await a.chat.sendFile(new File([data as BlobPart], 'avant.png', { type: 'image/png' }));

    // Carol joins: Alice and Bob switch to new keys (the ratchet), which Carol gets; the old ones she never has.
    const c = party(relay, 'carol');
    giveKey(c, 0x20, [a, b]);
    giveKey(a, 0x01, [b, c]);
    giveKey(b, 0x11, [a, c]);
    // A hostile server replays the earlier chunks to her: she cannot read them.
    for (const n of relay.seen.filter((s) => s.from === 'alice')) relay.deliver('carol', n);
    expect(msgs(c)).toHaveLength(0);
    expect(c.chat.snapshot().couldNotDecrypt).toBe(2);

    // Alice sends the text again; Bob re-sends the file he received.
    const before = { bobText: msgs(b)[0], aliceFile: msgs(a)[1] };
    await a.chat.resend(text);
    await b.chat.resend(file);
    expect(msgs(c).map((m) => [m.id, m.from, m.status])).toEqual([
      [text, 'alice', 'received'],
      [file, 'bob', 'received'],
    ]);
    expect(msgs(c)[0]?.text).toBe('avant votre arrivée');
    expect(sameBytes(await blobBytes(c, msgs(c)[1]), data)).toBe(true);
    // Those who already had them see no duplicates.
    expect(msgs(a).map((m) => m.id)).toEqual([text, file]);
    expect(msgs(b).map((m) => m.id)).toEqual([text, file]);
    expect(msgs(b)[0]).toBe(before.bobText); // untouched, not received a second time
    expect(msgs(a)[1]).toMatchObject({ status: before.aliceFile!.status, progress: 1, file: before.aliceFile!.file });
    expect(msgs(a)[1]?.delivery?.acknowledgedBy).toContain('bob'); // Bob's re-send says he holds it
    expect(a.urls.size).toBe(0);
    expect(msgs(a)[0]).toMatchObject({ status: 'sent', progress: 1 });
    expect(msgs(b)[1]).toMatchObject({ status: 'received', resend: { status: 'sent', progress: 1 } });
    // The re-sends went under the new keys.
    expect(relay.seen.filter((s) => s.id === text).map((s) => s.kid)).toEqual([0x00, 0x01]);
    expect(new Set(relay.seen.filter((s) => s.id === file && s.from === 'bob').map((s) => s.kid))).toEqual(new Set([0x11]));
  });

  it('a message that failed to decrypt is accepted when sent again under a key we hold', async () => {
    const { relay, a, b } = trio();
    relay.tamper = (to, n) => (to === 'bob' ? { ...n, box: flipByte(n.box, 40) } : n);
    const data = png(2 * CHAT_CHUNK_BYTES, 4);
    const id = await a.chat.sendFile(new File([data as BlobPart], 'x.png', { type: 'image/png' }));
    expect(msgs(b)).toHaveLength(0);
    relay.tamper = undefined;
    await a.chat.resend(id);
    expect(msgs(b).map((m) => m.status)).toEqual(['received']);
    expect(sameBytes(await blobBytes(b, msgs(b)[0]), data)).toBe(true);
  });

  it('with the real KeyAgreement: the newcomer reads nothing older, and gets a re-send', async () => {
    const relay = new Relay();
    const authKey = randomBytes(32);
    const members: { id: string; slot: number; ka: KeyAgreement }[] = [];
    let round = 0;
    const flush = async () => {
      for (let i = 0; i < 20; i++) {
        await Promise.all(members.map((m) => m.ka.settled()));
        await new Promise((r) => setImmediate(r));
      }
    };
    const others = (id: string) => members.filter((m) => m.id !== id);
    const join = (id: string, slot: number): Party => {
      const self: (typeof members)[number] = {
        id,
        slot,
        ka: new KeyAgreement({
          roomId: ROOM,
          selfId: id,
          slot,
          authKey,
          sink: { setLocalKey: async () => undefined, addRemoteKey: () => undefined, removeRemoteKey: () => undefined },
          transport: {
            // A key round through the relay: commitments and reveals to everyone else.
            commit: (r, commitment, mac) => {
              for (const m of others(id)) queueMicrotask(() => m.ka.handleCommitment({ peerId: id, round: r, commitment, mac }));
            },
            reveal: (r, publicKey, nonce) => {
              for (const m of others(id)) queueMicrotask(() => m.ka.handleReveal({ peerId: id, round: r, publicKey, nonce }));
            },
            deliver: (to, kid, box) => queueMicrotask(() => members.find((m) => m.id === to)?.ka.handleDelivery({ from: id, kid, box })),
          },
          onEvent: () => undefined,
        }),
      };
      members.push(self);
      // The join starts a round: the others hear of it, the newcomer has it in its join answer.
      const info = { round: ++round, members: members.map((m) => ({ peerId: m.id, slot: m.slot })) };
      for (const m of others(id)) m.ka.handleRound(info);
      void self.ka.start(info);
      const p = party(relay, id);
      // What the lead wires: ChatKeys straight from the KeyAgreement.
      const keys: ChatKeys = { sendKey: () => self.ka.currentSendKey(), receiveKey: (peer, kid) => self.ka.receiveKey(peer, kid) };
      p.keys.sendKey = keys.sendKey;
      p.keys.receiveKey = keys.receiveKey;
      return p;
    };
    try {
      const a = join('alice', 0);
      const b = join('bob', 1);
      await flush();
      const id = await a.chat.sendText('only for Bob');
      expect(msgs(b).map((m) => m.text)).toEqual(['only for Bob']);

      const c = join('carol', 2);
      await flush();
      for (const n of relay.seen) relay.deliver('carol', n); // replayed by a hostile server
      expect(msgs(c)).toHaveLength(0);
      expect(c.chat.snapshot().couldNotDecrypt).toBe(1);

      await a.chat.resend(id);
      expect(msgs(c).map((m) => [m.from, m.text])).toEqual([['alice', 'only for Bob']]);
      expect(msgs(b)).toHaveLength(1);
      await c.chat.sendText('hello from Carol');
      expect(msgs(a).map((m) => m.text)).toEqual(['only for Bob', 'hello from Carol']);
      expect(msgs(b).map((m) => m.text)).toEqual(['only for Bob', 'hello from Carol']);
    } finally {
      for (const m of members) m.ka.close();
    }
  });
});

describe('key separation', () => {
  it('a chunk sealed with a media (SFrame) key or the base key itself is not accepted', () => {
    const relay = new Relay();
    const a = party(relay, 'alice');
    const b = party(relay, 'bob');
    const base = giveKey(a, 0x21, [b]);
    const media = deriveKeyAndSalt(SUITE, base, 0x21n);
    const id = 'd'.repeat(32);
    const plain = json({ type: 'text', text: 'forged' });
    const ctx = { roomId: ROOM, from: 'alice', kid: 0x21, id, index: 0, total: 1 };
    for (const wrong of [base, Uint8Array.from([...media.key, ...media.key]), Uint8Array.from([...media.key, ...media.salt, 0, 0, 0, 0])]) {
      relay.deliver('bob', { from: 'alice', kid: 0x21, id, index: 0, total: 1, box: sealChatChunk(wrong, ctx, plain) });
    }
    expect(msgs(b)).toHaveLength(0);
    expect(b.chat.snapshot().couldNotDecrypt).toBe(3);
    // Control: the derived chat key is.
    relay.deliver('bob', { from: 'alice', kid: 0x21, id, index: 0, total: 1, box: sealChatChunk(deriveChatKey(base), ctx, plain) });
    expect(msgs(b).map((m) => m.text)).toEqual(['forged']);
  });
});

describe('sanitizeFileName', () => {
  it.each([
    ['../../etc/passwd', 'application/pdf', '_.._etc_passwd.pdf'],
    ['C:\\Users\\x\\ordonnance.PDF', 'application/pdf', 'C__Users_x_ordonnance.PDF'],
    ['facture\u202Efdp.exe', 'application/pdf', 'facturefdp.exe.pdf'],
    ['photo.jpeg', 'image/jpeg', 'photo.jpeg'],
    ['photo.png', 'image/jpeg', 'photo.png.jpg'],
    ['a\u0000b\u0007c\n.gif', 'image/gif', 'abc.gif'],
    ['...', 'image/webp', 'file.webp'],
    ['.bashrc', 'image/png', 'bashrc.png'],
    ['', 'image/png', 'file.png'],
  ] as const)('%j (%s) → %j', (raw, mime, out) => {
    expect(sanitizeFileName(raw, mime)).toBe(out);
  });

  it('caps the length (by code point) and keeps the extension', () => {
    const name = sanitizeFileName('😀'.repeat(300) + '.pdf', 'application/pdf');
    expect(Array.from(name)).toHaveLength(100);
    expect(name.endsWith('.pdf')).toBe(true);
    expect(new TextDecoder().decode(new TextEncoder().encode(name))).toBe(name); // no lone surrogate
  });
});
