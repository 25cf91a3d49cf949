// The transcript survives a reload of the tab: the browser store (sealed
// sessionStorage + IndexedDB, here an in-memory Storage and fake-indexeddb)
// on its own, then sessions reloaded from it in a call.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatSession, type ChatLink, type ChatSessionOptions } from '../../client/chat/chat-session.ts';
import { BrowserTranscriptStore, TAB_KEY_ITEM, memoryStorage, transcriptItem, type TranscriptBackends } from '../../client/chat/chat-transcript-store.ts';
import type { ChatTranscriptStore, StoredTranscript } from '../../client/chat/chat-transcript.ts';
import { sealTranscript, transcriptKey } from '../../shared/crypto/transcript-crypto.ts';
import { CHAT_CHUNK_BYTES } from '../../shared/protocol/chat.ts';
import { SAVE_DELAY_MS } from '../../client/chat/chat-archive.ts';
import { ROOM, Room, TEST_OPTIONS, blobBytes, closeAll, fakeUrls, msgs, png, sameBytes, settle, until, type Person } from './support/chat-relay.ts';

afterEach(closeAll);

/** One browser tab's storage: survives a reload, not the tab. */
function tab(): TranscriptBackends & { live: Set<string> } {
  const live = new Set<string>();
  return { session: memoryStorage(), indexedDB: new IDBFactory(), holdTag: (t) => void live.add(t), liveTags: async () => new Set(live), live };
}

const ID = (n: number) => n.toString(16).padStart(32, '0');
const transcript = (text: string): StoredTranscript => ({
  v: 1,
  messages: [{ id: ID(1), from: 'doctor-1', fromParticipant: 'doctor', fromName: 'Dr House', kind: 'text', text, status: 'received' }],
  retired: [ID(2)],
  participants: [{ id: 'doctor', left: false }],
});

describe('BrowserTranscriptStore', () => {
  it('keeps a transcript and files for the tab, sealed: nothing readable in storage', async () => {
    const t = tab();
    const store = new BrowserTranscriptStore(ROOM, t, -1);
    expect(store.save(transcript('Ordonnance: amoxicilline'))).toBe(true);
    const bytes = png(100_000, 3);
    expect(await store.saveFile(ID(1), bytes)).toBe(true);
    const raw = t.session.getItem(transcriptItem(ROOM))!;
    expect(Buffer.from(raw, 'base64').includes(Buffer.from('amoxicilline'))).toBe(false);
    expect(raw.includes('amoxicilline')).toBe(false);

    const again = new BrowserTranscriptStore(ROOM, t, -1); // the page after a reload
    expect(again.load()).toEqual(transcript('Ordonnance: amoxicilline'));
    expect(sameBytes((await again.loadFile(ID(1)))!, bytes)).toBe(true);
    expect(await again.loadFile(ID(9))).toBeUndefined();
  });

  it('refuses a tampered transcript, one without its key, or one from another consultation (and removes it)', () => {
    const t = tab();
    new BrowserTranscriptStore(ROOM, t, -1).save(transcript('secret'));
    const good = t.session.getItem(transcriptItem(ROOM))!;

    const bytes = Buffer.from(good, 'base64');
    bytes[bytes.length - 5]! ^= 1;
    t.session.setItem(transcriptItem(ROOM), bytes.toString('base64'));
    expect(new BrowserTranscriptStore(ROOM, t, -1).load()).toBeUndefined();
    expect(t.session.getItem(transcriptItem(ROOM))).toBeNull();

    t.session.setItem(transcriptItem(ROOM), good);
    t.session.setItem(transcriptItem('room-2'), good); // moved to another consultation
    expect(new BrowserTranscriptStore('room-2', t, -1).load()).toBeUndefined();
    t.session.setItem(transcriptItem(ROOM), 'not base64 at all %%%');
    expect(new BrowserTranscriptStore(ROOM, t, -1).load()).toBeUndefined();

    t.session.setItem(transcriptItem(ROOM), good);
    t.session.removeItem(TAB_KEY_ITEM); // the key is gone (another tab, or sessionStorage cleared): a new one is drawn
    expect(new BrowserTranscriptStore(ROOM, t, -1).load()).toBeUndefined();
  });

  it('refuses a transcript that opens but does not validate', () => {
    const t = tab();
    new BrowserTranscriptStore(ROOM, t, -1); // draws the tab key
    const key = transcriptKey(hexToBytes(t.session.getItem(TAB_KEY_ITEM)!), ROOM);
    const seal = (v: unknown) => Buffer.from(sealTranscript(key, ROOM, new TextEncoder().encode(JSON.stringify(v)))).toString('base64');
    const bad: unknown[] = [
      { ...transcript('x'), v: 2 },
      { ...transcript('x'), extra: 1 },
      { ...transcript('x'), messages: [{ ...transcript('x').messages[0], kind: 'file' }] },
      { ...transcript('x'), messages: [{ ...transcript('x').messages[0], text: 'x'.repeat(4001) }] },
      { ...transcript('x'), retired: ['../../etc'] },
      'just a string',
    ];
    for (const v of bad) {
      t.session.setItem(transcriptItem(ROOM), seal(v));
      expect(new BrowserTranscriptStore(ROOM, t, -1).load()).toBeUndefined();
    }
    t.session.setItem(transcriptItem(ROOM), seal(transcript('fine'))); // control
    expect(new BrowserTranscriptStore(ROOM, t, -1).load()?.messages[0]?.text).toBe('fine');
  });

  it('refuses a tampered file, or one moved to another message', async () => {
    const t = tab();
    const store = new BrowserTranscriptStore(ROOM, t, -1);
    await store.saveFile(ID(1), png(1000));
    await store.saveFile(ID(2), png(1000, 2));
    const db = await new Promise<IDBDatabase>((r) => {
      const o = t.indexedDB!.open('confide-chat', 1);
      o.onsuccess = () => r(o.result);
    });
    const files = () => db.transaction('files', 'readwrite').objectStore('files');
    const keys = await new Promise<IDBValidKey[]>((r) => {
      const q = files().getAllKeys();
      q.onsuccess = () => r(q.result);
    });
    const [k1, k2] = keys.map(String).sort();
    const get = (k: string) =>
      new Promise<{ box: Uint8Array }>((r) => {
        const q = files().get(k);
        q.onsuccess = () => r(q.result as { box: Uint8Array });
      });
    const one = await get(k1!);
    const flipped = one.box.slice();
    flipped[40]! ^= 1;
    files().put({ box: flipped }, k1!);
    await settle(5);
    expect(await store.loadFile(ID(1))).toBeUndefined();
    files().put(one, k2!); // message 1's file under message 2
    await settle(5);
    expect(await store.loadFile(ID(2))).toBeUndefined();
    db.close();
  });

  it('erase() removes this consultation only; garbage collection deletes files no open tab can open', async () => {
    const closed = tab();
    const open = tab();
    const mine = tab();
    open.indexedDB = closed.indexedDB; // one origin, one IndexedDB; each tab its own sessionStorage
    mine.indexedDB = closed.indexedDB;
    const live = new Set<string>();
    for (const t of [closed, open, mine]) {
      t.holdTag = (tag) => void live.add(tag);
      t.liveTags = async () => new Set(live);
    }
    const gone = new BrowserTranscriptStore(ROOM, closed, -1);
    await gone.saveFile(ID(1), png(10));
    live.clear(); // that tab was closed: its lock is released
    const other = new BrowserTranscriptStore(ROOM, open, -1);
    await other.saveFile(ID(1), png(10));
    const ours = new BrowserTranscriptStore(ROOM, mine, -1);
    await ours.saveFile(ID(1), png(10));
    await ours.saveFile(ID(2), png(10));
    const elsewhere = new BrowserTranscriptStore('room-2', mine, -1);
    await elsewhere.saveFile(ID(1), png(10));

    new BrowserTranscriptStore(ROOM, tab(), -1); // unrelated
    const collector = new BrowserTranscriptStore('room-3', { ...mine, session: memoryStorage() }, 5);
    void collector;
    await settle(60);
    expect(await gone.loadFile(ID(1))).toBeUndefined(); // nobody could open it: deleted
    expect(await other.loadFile(ID(1))).toBeDefined(); // an open tab's: kept
    expect(await ours.loadFile(ID(2))).toBeDefined();

    ours.save(transcript('bye'));
    await ours.erase();
    expect(ours.load()).toBeUndefined();
    expect(await ours.loadFile(ID(1))).toBeUndefined();
    expect(await ours.loadFile(ID(2))).toBeUndefined();
    expect(await elsewhere.loadFile(ID(1))).toBeDefined();
  });

  it('a transcript too large for sessionStorage keeps its newest part', () => {
    const t = tab();
    const session = t.session;
    t.session = {
      ...session,
      getItem: (k) => session.getItem(k),
      removeItem: (k) => session.removeItem(k),
      setItem: (k, v) => {
        if (v.length > 20_000) throw Object.assign(new Error('full'), { name: 'QuotaExceededError' });
        session.setItem(k, v);
      },
    };
    const store = new BrowserTranscriptStore(ROOM, t, -1);
    const big: StoredTranscript = {
      ...transcript('x'),
      messages: Array.from({ length: 8 }, (_, i) => ({ id: ID(i + 10), from: 'me', kind: 'text' as const, text: `${i}`.repeat(3000), status: 'sent' as const })),
    };
    expect(store.save(big)).toBe(false);
    const back = store.load()!;
    expect(back.messages.map((m) => m.id)).toEqual(big.messages.slice(4).map((m) => m.id));
    expect(back.retired).toEqual([ID(2), ...big.messages.slice(0, 4).map((m) => m.id)]);
  });
});

// ------------------------------------------------------------ reloading

/** A store whose page can be killed: writes after that are lost, like a page that is gone. */
class PageStore implements ChatTranscriptStore {
  dead = false;
  /** Holds saveFile until released (to watch what waits for it). */
  gate: Promise<void> | undefined;
  constructor(readonly inner: ChatTranscriptStore) {}
  load = () => this.inner.load();
  save = (t: StoredTranscript) => !this.dead && this.inner.save(t);
  saveFile = async (id: string, b: Uint8Array) => {
    await this.gate;
    return !this.dead && this.inner.saveFile(id, b);
  };
  loadFile = (id: string) => this.inner.loadFile(id);
  deleteFile = async (id: string) => (this.dead ? undefined : this.inner.deleteFile(id));
  erase = () => this.inner.erase();
}

function withStore(t: TranscriptBackends, extra: ChatSessionOptions = {}): { options: ChatSessionOptions; store: PageStore } {
  const store = new PageStore(new BrowserTranscriptStore(ROOM, t, -1));
  return { store, options: { transcript: store, ...extra } };
}

/** F5: the page dies (nothing more written), a new one loads from the same tab storage and rejoins. */
function reload(room: Room, p: Person, old: PageStore, t: TranscriptBackends, extra: ChatSessionOptions = {}): PageStore {
  old.dead = true;
  const { store, options } = withStore(t, extra);
  const u = fakeUrls(`${p.participant}-reloaded`);
  p.urls = u.urls;
  room.reload(p, (link: ChatLink) => new ChatSession(link, ROOM, { ...TEST_OPTIONS, objectUrls: u.objectUrls, ...options }));
  return store;
}

describe('a reload of the tab', () => {
  it('shows the history again, files openable byte for byte, and does not show a message twice when it is sent again', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const t = tab();
    const page = withStore(t);
    const patient = room.join('patient', page.options);
    const text = await doctor.chat.sendText('Prenez 1 comprimé matin et soir');
    const data = png(2 * CHAT_CHUNK_BYTES + 10, 5);
    const file = await doctor.chat.sendFile(new File([data as BlobPart], 'ordonnance.png', { type: 'image/png' }));
    await until(() => msgs(doctor).every((m) => m.delivery?.acknowledgedBy.includes('patient')));
    const mine = await patient.chat.sendText('Merci docteur');
    await until(() => msgs(patient)[2]?.delivery?.acknowledgedBy.includes('doctor') === true);
    const before = msgs(patient).map((m) => ({ id: m.id, from: m.from, kind: m.kind, text: m.text, fromName: m.fromName, status: m.status }));
    // This reload writes nothing on the way out (no pagehide): let the batched save of the doctor's receipt run first.
    await settle(SAVE_DELAY_MS + 50);

    reload(room, patient, page.store, t);
    await until(() => msgs(patient)[1]?.file?.url !== undefined);
    expect(msgs(patient).map((m) => ({ id: m.id, from: m.from, kind: m.kind, text: m.text, fromName: m.fromName, status: m.status }))).toEqual(before);
    expect(msgs(patient).map((m) => m.id)).toEqual([text, file, mine]);
    expect(sameBytes(await blobBytes(patient, msgs(patient)[1]), data)).toBe(true);
    expect(msgs(patient)[2]?.delivery).toEqual({ waitingFor: [], acknowledgedBy: ['doctor'] });

    // The doctor sends both again: not shown twice, acknowledged again.
    const receipts = room.relay.seen.length;
    await doctor.chat.resend(text);
    await doctor.chat.resend(file);
    await settle(20);
    expect(msgs(patient).map((m) => m.id)).toEqual([text, file, mine]);
    expect(room.relay.seen.slice(receipts).some((n) => n.from === patient.peerId)).toBe(true);
    expect(patient.chat.snapshot()).toMatchObject({ couldNotDecrypt: 0, dropped: 0 });
  });

  it('own messages the other side has not acknowledged are sent again after the rejoin, and arrive once', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const t = tab();
    const page = withStore(t);
    const patient = room.join('patient', page.options);
    room.drop(doctor);
    const text = await patient.chat.sendText('Je ne vous entends plus');
    const data = png(CHAT_CHUNK_BYTES + 1, 11);
    const file = await patient.chat.sendFile(new File([data as BlobPart], 'photo.png', { type: 'image/png' }));
    await until(() => msgs(patient).every((m) => m.status === 'sent'));
    expect(msgs(patient).map((m) => m.delivery?.waitingFor)).toEqual([['doctor'], ['doctor']]);
    await settle(20); // the file's bytes are stored in the background

    reload(room, patient, page.store, t);
    expect(msgs(patient).map((m) => [m.id, m.delivery?.waitingFor])).toEqual([
      [text, ['doctor']],
      [file, ['doctor']],
    ]);
    room.rejoin(doctor);
    await until(() => msgs(patient).every((m) => m.delivery?.waitingFor.length === 0));
    expect(msgs(doctor).map((m) => [m.id, m.status])).toEqual([
      [text, 'received'],
      [file, 'received'],
    ]);
    expect(sameBytes(await blobBytes(doctor, msgs(doctor)[1]), data)).toBe(true);
  });

  it('a received file is acknowledged only once its bytes are stored', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const t = tab();
    const page = withStore(t);
    let release!: () => void;
    page.store.gate = new Promise((r) => (release = r));
    const patient = room.join('patient', page.options);
    await doctor.chat.sendFile(new File([png(5000) as BlobPart], 'a.png', { type: 'image/png' }));
    expect(msgs(patient)[0]?.status).toBe('received');
    await settle(30);
    expect(msgs(doctor)[0]?.delivery?.waitingFor).toEqual(['patient']);
    release();
    await until(() => msgs(doctor)[0]?.delivery?.waitingFor.length === 0);
  });

  it('a tampered or key-less stored transcript shows nothing and breaks nothing', async () => {
    for (const spoil of ['tamper', 'tag', 'no-key'] as const) {
      const room = new Room();
      const doctor = room.join('doctor');
      const t = tab();
      const page = withStore(t);
      const patient = room.join('patient', page.options);
      await doctor.chat.sendText('confidentiel');
      await until(() => msgs(doctor)[0]?.delivery?.waitingFor.length === 0);
      page.store.dead = true;
      if (spoil === 'no-key') t.session.removeItem(TAB_KEY_ITEM);
      else {
        const raw = Buffer.from(t.session.getItem(transcriptItem(ROOM))!, 'base64');
        raw[spoil === 'tag' ? raw.length - 1 : 30]! ^= 0x80; // the authentication tag, or the ciphertext
        t.session.setItem(transcriptItem(ROOM), raw.toString('base64'));
      }
      reload(room, patient, page.store, t);
      expect(msgs(patient)).toHaveLength(0);
      await patient.chat.sendText('still working');
      expect(msgs(doctor).map((m) => m.text)).toEqual(['confidentiel', 'still working']);
    }
  });

  it('close({ forget: true }) erases the transcript and its files', async () => {
    const room = new Room();
    const doctor = room.join('doctor');
    const t = tab();
    const page = withStore(t);
    const patient = room.join('patient', page.options);
    await doctor.chat.sendFile(new File([png(3000) as BlobPart], 'a.png', { type: 'image/png' }));
    await until(() => msgs(doctor)[0]?.delivery?.waitingFor.length === 0);
    const id = msgs(patient)[0]!.id;
    expect(await page.store.inner.loadFile(id)).toBeDefined();
    patient.chat.close({ forget: true });
    await settle(20);
    expect(t.session.getItem(transcriptItem(ROOM))).toBeNull();
    expect(await page.store.inner.loadFile(id)).toBeUndefined();
    expect(new BrowserTranscriptStore(ROOM, t, -1).load()).toBeUndefined();
  });

  it('a tab key is 32 random bytes in hex, one per tab', () => {
    const a = tab();
    const b = tab();
    new BrowserTranscriptStore(ROOM, a, -1);
    new BrowserTranscriptStore(ROOM, b, -1);
    const ka = a.session.getItem(TAB_KEY_ITEM)!;
    expect(ka).toMatch(/^[0-9a-f]{64}$/);
    expect(ka).not.toBe(b.session.getItem(TAB_KEY_ITEM));
    expect(bytesToHex(hexToBytes(ka))).toBe(ka);
  });
});
