// Test doubles for the chat: an in-memory relay that validates like the real
// server and client (and that a test can turn hostile, or cut off from one
// participant), fake signalling and keys, and a small "room" that plays the
// connection owner (ConsultationCall): joins, drops, quick resumes, full
// rejoins under a new peer id with new keys, peerReady/peerGone.
import { randomBytes } from '@noble/hashes/utils.js';
import { expect } from 'vitest';
import { ChatSession, type ChatKeys, type ChatLink, type ChatMessage, type ChatSessionOptions, type ChatSignalling } from '../../../client/chat/chat-session.ts';
import { deriveChatKey, sealChatChunk } from '../../../shared/crypto/chat-crypto.ts';
import { chatNotifications, chatRequests } from '../../../shared/protocol/chat.ts';

export const ROOM = 'room-1';

// ------------------------------------------------------------------ relay

/** What the server relays: the chatChunk notification, box as the browser gets it (ArrayBuffer). */
export interface Note {
  from: string;
  kid: number;
  id: string;
  index: number;
  total: number;
  box: Uint8Array;
}

export class Relay {
  readonly clients = new Map<string, FakeSignalling>();
  /** Everything the server saw (what it could store). */
  readonly seen: Note[] = [];
  /** A hostile server: rewrite or drop (undefined) a chunk on its way to `to`. */
  tamper: ((to: string, n: Note) => Note | undefined) | undefined;
  /** Hold chunks instead of delivering them (to reorder or replay). */
  hold = false;
  readonly held: { to: string; note: Note }[] = [];
  /** Peers whose socket is down: what they would get is lost, their requests fail 'disconnected'. */
  readonly down = new Set<string>();

  connect(peerId: string): FakeSignalling {
    const s = new FakeSignalling(this, peerId);
    this.clients.set(peerId, s);
    return s;
  }

  leave(peerId: string): void {
    this.clients.delete(peerId);
    for (const c of this.clients.values()) c.emit('peerLeft', { peerId });
  }

  relay(from: string, payload: Omit<Note, 'from'>): void {
    const note = { from, ...payload, box: payload.box.slice() };
    this.seen.push(note);
    for (const to of this.clients.keys()) {
      if (to === from || this.down.has(to)) continue;
      const out = this.tamper ? this.tamper(to, { ...note, box: note.box.slice() }) : note;
      if (!out) continue;
      if (this.hold) this.held.push({ to, note: out });
      else this.deliver(to, out);
    }
  }

  /** Delivers a notification as the wire would: binary as an ArrayBuffer. */
  deliver(to: string, note: Note | Record<string, unknown>): void {
    const raw = { ...note, box: note.box instanceof Uint8Array ? note.box.slice().buffer : note.box };
    this.clients.get(to)?.emit('chatChunk', raw);
  }

  release(order: (held: { to: string; note: Note }[]) => { to: string; note: Note }[] = (h) => h): void {
    const all = order(this.held.splice(0));
    for (const { to, note } of all) this.deliver(to, note);
  }
}

type Failure = { code: string } | undefined;

/** Same shapes as SignallingClient; validates both ways with the shared schemas. */
export class FakeSignalling {
  private readonly handlers = new Map<string, Set<(d: unknown) => void>>();
  /** Makes the next requests fail with these codes (then succeed). */
  readonly failures: Failure[] = [];
  requests = 0;

  constructor(
    private readonly relay: Relay,
    readonly peerId: string,
  ) {}

  async request(name: string, payload: unknown): Promise<object> {
    this.requests++;
    if (name !== 'chatChunk') throw Object.assign(new Error('unknown'), { code: 'unknown-request' });
    if (this.relay.down.has(this.peerId)) throw Object.assign(new Error('disconnected'), { code: 'disconnected' });
    const failure = this.failures.shift();
    if (failure) throw Object.assign(new Error(failure.code), failure);
    const parsed = chatRequests.chatChunk.req.safeParse(payload);
    if (!parsed.success) throw Object.assign(new Error('bad-request'), { code: 'bad-request' });
    await Promise.resolve();
    if (this.relay.clients.get(this.peerId) === this) this.relay.relay(this.peerId, parsed.data);
    return {};
  }

  on(name: string, handler: (d: unknown) => void): () => void {
    const schema = name === 'chatChunk' ? chatNotifications.chatChunk : undefined;
    const listener = (raw: unknown) => {
      if (!schema) return handler(raw);
      const parsed = schema.safeParse(raw);
      if (parsed.success) handler(parsed.data);
    };
    const set = this.handlers.get(name) ?? new Set();
    set.add(listener);
    this.handlers.set(name, set);
    return () => set.delete(listener);
  }

  emit(name: string, raw: unknown): void {
    for (const h of this.handlers.get(name) ?? []) h(raw);
  }

  listenerCount(): number {
    return [...this.handlers.values()].reduce((n, s) => n + s.size, 0);
  }
}

// ------------------------------------------------------------------- keys

/** A stand-in for KeyAgreement: our current key, and the keys others gave us. */
export class FakeKeys implements ChatKeys {
  own: { kid: bigint; key: Uint8Array } | undefined;
  readonly held = new Map<string, Uint8Array>();
  sendKey() {
    return this.own && { kid: this.own.kid, key: this.own.key };
  }
  receiveKey(peerId: string, kid: bigint) {
    return this.held.get(`${peerId}/${kid}`);
  }
}

// ---------------------------------------------------------------- parties

export interface Party {
  id: string;
  sig: FakeSignalling;
  keys: FakeKeys;
  chat: ChatSession;
  urls: Map<string, Blob>;
  revoked: string[];
}

/** Sessions made by the helpers, closed after each test (see closeAll). */
const sessions: ChatSession[] = [];

export function closeAll(): void {
  for (const s of sessions.splice(0)) s.close();
}

/** Object URLs that remember their blob, numbered per owner. */
export function fakeUrls(owner: string) {
  const urls = new Map<string, Blob>();
  const revoked: string[] = [];
  let n = 0;
  return {
    urls,
    revoked,
    objectUrls: {
      create: (b: Blob) => {
        const u = `blob:test/${owner}/${++n}`;
        urls.set(u, b);
        return u;
      },
      revoke: (u: string) => void revoked.push(u),
    },
  };
}

/** Quick, deterministic options for tests. */
export const TEST_OPTIONS: ChatSessionOptions = { pace: false, sweepEveryMs: 0, retryBaseMs: 1, receiptDelayMs: 1 };

/** A participant whose peer id stands for its participant id (no rejoins). */
export function party(relay: Relay, id: string, options: ChatSessionOptions = {}): Party {
  const sig = relay.connect(id);
  const keys = new FakeKeys();
  const { urls, revoked, objectUrls } = fakeUrls(id);
  const link = { signalling: sig as unknown as ChatSignalling, keys, selfId: id, participantOf: (peer: string) => peer, nameOf: () => undefined };
  const chat = new ChatSession(link, ROOM, { ...TEST_OPTIONS, objectUrls, ...options });
  sessions.push(chat);
  return { id, sig, keys, chat, urls, revoked };
}

/** `owner` switches to a fresh key under `kid`, given to `to`. */
export function giveKey(owner: Party, kid: number, to: Party[], key: Uint8Array = randomBytes(32)): Uint8Array {
  owner.keys.own = { kid: BigInt(kid), key };
  for (const p of to) p.keys.held.set(`${owner.id}/${kid}`, key.slice());
  return key;
}

export const msgs = (p: { chat: ChatSession }): readonly ChatMessage[] => p.chat.snapshot().messages;

// ------------------------------------------------------------------- room

/** One person in a call: a stable participant id, and a peer id and keys per connection. */
export interface Person {
  participant: string;
  name: string;
  peerId: string;
  sig: FakeSignalling;
  keys: FakeKeys;
  chat: ChatSession;
  urls: Map<string, Blob>;
  /** Connections so far (peer ids are `${participant}-${n}`). */
  n: number;
}

/**
 * Plays the connection owner for several people: who is who (participantOf,
 * nameOf), key exchange, and the ChatSession calls of the contract.
 */
export class Room {
  readonly relay = new Relay();
  readonly people: Person[] = [];
  /** peer id → participant id, for every peer ever seen (like PeerInfo.participantId). */
  readonly directory = new Map<string, string>();
  private kid = 0;

  link(p: Pick<Person, 'sig' | 'keys' | 'peerId'>): ChatLink {
    return {
      signalling: p.sig as unknown as ChatSignalling,
      keys: p.keys,
      selfId: p.peerId,
      participantOf: (peer) => this.directory.get(peer),
      nameOf: (peer) => {
        const who = this.directory.get(peer);
        return this.people.find((x) => x.participant === who)?.name;
      },
    };
  }

  /** `participant` joins (a new ChatSession unless one is given, e.g. restored from a transcript). */
  join(participant: string, options: ChatSessionOptions = {}): Person {
    const peerId = `${participant}-1`;
    const { urls, objectUrls } = fakeUrls(participant);
    const sig = this.relay.connect(peerId);
    const keys = new FakeKeys();
    this.directory.set(peerId, participant);
    const person = { participant, name: `Name of ${participant}`, peerId, sig, keys, urls, n: 1 } as Person;
    person.chat = new ChatSession(this.link(person), ROOM, { ...TEST_OPTIONS, objectUrls, ...options });
    sessions.push(person.chat);
    this.people.push(person);
    this.exchangeKeys(person);
    return person;
  }

  /**
   * Like the key agreement on a join: `person` draws a key, everyone else
   * moves to a new key too (the ratchet: the newcomer never gets the old
   * ones), each key goes to everyone present; then peerReady on both sides
   * (what the lead wires when key boxes are acknowledged).
   */
  exchangeKeys(person: Person): void {
    const here = this.present();
    for (const owner of here) {
      owner.keys.own = { kid: BigInt(this.kid++ & 0xff), key: randomBytes(32) };
      for (const other of here) if (other !== owner) other.keys.held.set(`${owner.peerId}/${owner.keys.own.kid}`, owner.keys.own.key.slice());
    }
    for (const other of here) {
      if (other === person) continue;
      other.chat.peerReady(person.peerId);
      person.chat.peerReady(other.peerId);
    }
  }

  present(): Person[] {
    return this.people.filter((p) => this.relay.clients.get(p.peerId) === p.sig && !this.relay.down.has(p.peerId));
  }

  /** Signalling drops: what it would get is lost; its requests fail 'disconnected'. */
  drop(p: Person): void {
    this.relay.down.add(p.peerId);
    p.chat.pause();
  }

  /** Quick resume: same peer id, same keys. */
  resume(p: Person): void {
    this.relay.down.delete(p.peerId);
    p.chat.resume();
  }

  /** Full rejoin: new peer id and keys; the old peer is gone (not for good) for the others. */
  rejoin(p: Person, options: { session?: ChatSession } = {}): void {
    this.newConnection(p);
    if (options.session) {
      p.chat = options.session;
      sessions.push(p.chat);
    } else p.chat.rebind(this.link(p));
    this.exchangeKeys(p);
  }

  /** `p` comes back as a new peer (new id, connection and keys); its old peer is gone, not for good, for the others. */
  private newConnection(p: Person): void {
    const old = p.peerId;
    this.relay.down.delete(old);
    this.relay.clients.delete(old);
    for (const other of this.present()) if (other !== p) other.chat.peerGone(old, false);
    p.n++;
    p.peerId = `${p.participant}-${p.n}`;
    this.directory.set(p.peerId, p.participant);
    p.sig = this.relay.connect(p.peerId);
    p.keys = new FakeKeys();
  }

  /** A reload: the old page is gone; a new ChatSession (built by `make` from the new link) rejoins. */
  reload(p: Person, make: (link: ChatLink) => ChatSession): void {
    p.chat.close();
    this.newConnection(p);
    p.chat = make(this.link(p));
    sessions.push(p.chat);
    this.exchangeKeys(p);
  }

  /** Leaves for good. */
  leave(p: Person): void {
    this.relay.leave(p.peerId);
    for (const other of this.present()) other.chat.peerGone(p.peerId, true);
    p.chat.close({ forget: true });
  }
}

// -------------------------------------------------------------- helpers

/** Waits (real time) until `cond` holds, up to `ms`. */
export async function until(cond: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Lets timers and promises run for `ms` (real time). */
export const settle = (ms = 20) => new Promise((r) => setTimeout(r, ms));

/** Deterministic pseudo-random bytes (randomBytes is limited to 64 KiB per call). */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function png(n: number, seed = 1): Uint8Array {
  const b = bytes(n, seed);
  b.set(PNG_MAGIC);
  return b;
}

export async function blobBytes(p: { urls: Map<string, Blob> }, m: ChatMessage | undefined): Promise<Uint8Array> {
  const url = m?.file?.url;
  expect(url).toBeDefined();
  const blob = p.urls.get(url!);
  expect(blob).toBeDefined();
  return new Uint8Array(await blob!.arrayBuffer());
}

export function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  return Buffer.from(x).equals(Buffer.from(y));
}

/** Chunks a malicious participant (holding a valid key) could craft. */
export function craft(
  from: string,
  kid: number,
  baseKey: Uint8Array,
  chunks: Uint8Array[],
  o: { id?: string; total?: number; room?: string } = {},
): Note[] {
  const id = o.id ?? Buffer.from(randomBytes(16)).toString('hex');
  const total = o.total ?? chunks.length;
  const key = deriveChatKey(baseKey);
  return chunks.map((plain, index) => ({
    from,
    kid,
    id,
    index,
    total,
    box: sealChatChunk(key, { roomId: o.room ?? ROOM, from, kid, id, index, total }, plain),
  }));
}

export const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
export const HASH0 = '0'.repeat(64);

export function flipByte(b: Uint8Array, i: number): Uint8Array {
  const out = b.slice();
  out[i] = (out[i] ?? 0) ^ 0x01;
  return out;
}
