// The per-participant key agreement state machine (shared/e2ee/key-agreement.ts)
// run by several participants over an in-memory relay. The relay is a fake of
// the (untrusted) signalling server: it keeps key rounds with the server's own
// KeyRounds (one per change of membership; one commitment and one reveal per
// member per round), stamps commitments and reveals with the sender's peer id,
// routes key boxes, delivers everything asynchronously and can be made
// malicious through an intercept hook. Each participant's sink models the
// frame Worker's keyring; time is a fake clock handed in as `timers`.
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  KeyAgreement,
  MAX_ABORTED_ROUNDS,
  type Commitment,
  type Delivery,
  type KeyAgreementEvent,
  type KeySink,
  type KeyTransport,
  type Reveal,
  type RoundInfo,
  type Timers,
  type WarningReason,
} from '../../shared/e2ee/key-agreement.ts';
import { deriveRoomAuthKey, generateRoomSecret } from '../../shared/crypto/room-secret.ts';
import { generateKeyPair, openKeyBox, pairwiseKey, sealKeyBox, type KeyPair } from '../../shared/crypto/key-exchange.ts';
import { commitTo, commitmentMac, roundContext } from '../../shared/crypto/key-commitment.ts';
import { makeKid, parseKid, ratchetBaseKey } from '../../shared/crypto/key-schedule.ts';
import { KeyRounds } from '../../server/rooms/key-rounds.ts';
import { equalBytes } from '@noble/ciphers/utils.js';
import { randomBytes } from '@noble/hashes/utils.js';

const ROOM = 'room-1';
const KEY_BOX_BYTES = 24 + 1 + 32 + 16;
const ACK_BOX_BYTES = 24 + 1 + 16;

// ------------------------------------------------------------------ harness

class FakeClock implements Timers {
  now = 0;
  private seq = 0;
  private readonly pending: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];

  setTimeout(fn: () => void, ms: number): () => void {
    const t = { at: this.now + ms, seq: this.seq++, fn, cancelled: false };
    this.pending.push(t);
    return () => {
      t.cancelled = true;
    };
  }

  /** The earliest live timer due at or before `until`, removed from the list. */
  takeDue(until: number): { at: number; fn: () => void } | undefined {
    const live = this.pending.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = live[0];
    if (!next) return undefined;
    this.pending.splice(this.pending.indexOf(next), 1);
    return next;
  }
}

/** The frame Worker's keyring: one send key, receive keys by KID (keys copied, like postMessage does). */
class FakeSink implements KeySink {
  local: { kid: bigint; key: Uint8Array } | undefined;
  readonly receive = new Map<bigint, { peerId: string; key: Uint8Array }>();

  setLocalKey(kid: bigint, baseKey: Uint8Array): Promise<void> {
    this.local = { kid, key: baseKey.slice() };
    return Promise.resolve();
  }

  addRemoteKey(peerId: string, kid: bigint, baseKey: Uint8Array): void {
    this.receive.set(kid, { peerId, key: baseKey.slice() });
  }

  removeRemoteKey(kid: bigint): void {
    this.receive.delete(kid);
  }

  keysOf(peerId: string): Map<bigint, Uint8Array> {
    return new Map([...this.receive].filter(([, v]) => v.peerId === peerId).map(([kid, v]) => [kid, v.key]));
  }
}

interface Material {
  owner: string;
  kid: bigint;
  key: Uint8Array;
}

interface Participant {
  id: string;
  slot: number;
  agreement: KeyAgreement;
  sink: FakeSink;
  events: KeyAgreementEvent[];
  /** Every base key this participant ever held (own and received), copied. */
  material: Material[];
  left: boolean;
}

type Msg =
  | { kind: 'round'; to: string; info: RoundInfo }
  | { kind: 'commit'; to: string; c: Commitment }
  | { kind: 'reveal'; to: string; r: Reveal }
  | { kind: 'deliver'; to: string; d: Delivery }
  | { kind: 'left'; to: string; peerId: string };

/** What a participant asked the relay to send: everything the relay sees. */
interface Sent {
  from: string;
  to: string;
  kid: number;
  box: Uint8Array;
}

interface JoinOptions {
  slot?: number;
  ackTimeoutMs?: number;
  previousKeyMs?: number;
}

class Harness {
  readonly clock = new FakeClock();
  readonly secret = generateRoomSecret();
  readonly authKey = deriveRoomAuthKey(this.secret, ROOM);
  readonly participants = new Map<string, Participant>();
  /** The server's own key-round bookkeeping. */
  readonly rounds = new KeyRounds();
  /** Every commitment and reveal as its sender made it (before any tampering). */
  readonly commits: Commitment[] = [];
  readonly reveals: Reveal[] = [];
  readonly sent: Sent[] = [];
  /** Requests the server refused (e.g. a commitment for a round already over). */
  readonly refused: string[] = [];
  /** Commitments and reveals the server took and relayed. */
  readonly relayed: (Commitment | Reveal)[] = [];
  /** A lost request (the sender's connection dropped): it never reaches the server. */
  lose: ((from: string, kind: 'commit' | 'reveal') => boolean) | undefined;
  /** Malicious relay hook: return the messages to deliver instead of `m` ([] drops it). */
  intercept: ((m: Msg) => Msg[]) | undefined;
  /** Leavers that keep receiving what the relay addresses to them. */
  readonly listeningLeavers = new Set<string>();
  /** Fake members (played by a test) the rounds list besides the participants. */
  readonly extraMembers: { peerId: string; slot: number }[] = [];
  private queue: Msg[] = [];

  present(): Participant[] {
    return [...this.participants.values()].filter((p) => !p.left);
  }

  get(id: string): Participant {
    const p = this.participants.get(id);
    if (!p) throw new Error(`no participant ${id}`);
    return p;
  }

  async join(id: string, o: JoinOptions = {}): Promise<Participant> {
    const taken = new Set([...this.present().map((p) => p.slot), ...this.extraMembers.map((m) => m.slot)]);
    let slot = o.slot ?? 0;
    if (o.slot === undefined) while (taken.has(slot)) slot++;
    const sink = new FakeSink();
    const events: KeyAgreementEvent[] = [];
    const material: Material[] = [];
    const transport: KeyTransport = {
      commit: (round, commitment, mac) => {
        const c: Commitment = { peerId: id, round, commitment: commitment.slice(), mac: mac.slice() };
        this.commits.push(c);
        if (this.lose?.(id, 'commit')) return;
        if (this.accept(() => this.rounds.commit(id, { round, commitment: bytesToHex(commitment), mac: bytesToHex(mac) }))) {
          this.relayed.push(c);
          for (const other of this.present()) if (other.id !== id) this.send({ kind: 'commit', to: other.id, c });
        }
      },
      reveal: (round, publicKey, nonce) => {
        const r: Reveal = { peerId: id, round, publicKey: publicKey.slice(), nonce: nonce.slice() };
        this.reveals.push(r);
        if (this.lose?.(id, 'reveal')) return;
        if (this.accept(() => this.rounds.reveal(id, { round, publicKey: bytesToHex(publicKey), nonce: bytesToHex(nonce) }))) {
          this.relayed.push(r);
          for (const other of this.present()) if (other.id !== id) this.send({ kind: 'reveal', to: other.id, r });
        }
      },
      deliver: (to, kid, box) => {
        this.sent.push({ from: id, to, kid, box: box.slice() });
        this.send({ kind: 'deliver', to, d: { from: id, kid, box: box.slice() } });
      },
    };
    const agreement = new KeyAgreement({
      roomId: ROOM,
      selfId: id,
      slot,
      authKey: this.authKey,
      sink,
      transport,
      onEvent: (e) => events.push(e),
      timers: this.clock,
      ...(o.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: o.ackTimeoutMs }),
      ...(o.previousKeyMs === undefined ? {} : { previousKeyMs: o.previousKeyMs }),
      onKeyMaterial: (owner, kid, key) => material.push({ owner, kid, key: key.slice() }),
    });
    const p: Participant = { id, slot, agreement, sink, events, material, left: false };
    this.participants.set(id, p);
    // Like Room.join: the others hear of the new round; the joiner finds it in its join answer.
    const info = this.nextRound();
    for (const other of this.present()) if (other.id !== id) this.send({ kind: 'round', to: other.id, info });
    await agreement.start(info);
    await this.flush();
    return p;
  }

  /**
   * The server says `id` left, and starts the next round. With `keepListening`
   * the leaver's agreement keeps running and still gets whatever the relay
   * addresses to it (a relay colluding with the leaver); otherwise it is closed.
   */
  async leave(id: string, o: { keepListening?: boolean } = {}): Promise<void> {
    const p = this.get(id);
    p.left = true;
    if (o.keepListening) this.listeningLeavers.add(id);
    else p.agreement.close();
    for (const other of this.present()) this.send({ kind: 'left', to: other.id, peerId: id });
    const info = this.nextRound();
    for (const other of this.present()) this.send({ kind: 'round', to: other.id, info });
    await this.flush();
  }

  /** The server's next round over everyone present (and the test's fake members). */
  nextRound(): RoundInfo {
    return this.rounds.next([...this.present().map((p) => ({ peerId: p.id, slot: p.slot })), ...this.extraMembers]);
  }

  /** Inject a message as the relay (bypasses the intercept hook). */
  inject(m: Msg): void {
    this.queue.push(m);
  }

  private accept(serverCheck: () => boolean): boolean {
    try {
      return serverCheck();
    } catch (err) {
      this.refused.push((err as Error).message);
      return false;
    }
  }

  private send(m: Msg): void {
    this.queue.push(...(this.intercept ? this.intercept(m) : [m]));
  }

  private dispatch(m: Msg): void {
    const p = this.participants.get(m.to);
    if (!p) return;
    if (p.left && !(m.kind === 'deliver' && this.listeningLeavers.has(p.id))) return;
    if (m.kind === 'round') p.agreement.handleRound(m.info);
    else if (m.kind === 'commit') p.agreement.handleCommitment(m.c);
    else if (m.kind === 'reveal') p.agreement.handleReveal(m.r);
    else if (m.kind === 'deliver') p.agreement.handleDelivery(m.d);
    else p.agreement.handlePeerLeft(m.peerId);
  }

  /** Delivers everything queued (and what that causes) until the relay is idle. */
  async flush(): Promise<void> {
    for (let round = 0; round < 10_000; round++) {
      await new Promise<void>((r) => setImmediate(r)); // lets every pending promise chain run
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.dispatch(m);
    }
    throw new Error('relay never went idle');
  }

  /** flush + every agreement's queued key switches done (only when no timer is needed). */
  async settle(): Promise<void> {
    await this.flush();
    await Promise.all(this.present().map((p) => p.agreement.settled()));
    await this.flush();
  }

  /** Moves the fake clock forward, firing due timers in order and flushing after each. */
  async advance(ms: number): Promise<void> {
    const until = this.clock.now + ms;
    for (;;) {
      const t = this.clock.takeDue(until);
      if (!t) break;
      this.clock.now = t.at;
      t.fn();
      await this.flush();
    }
    this.clock.now = until;
    await this.flush();
  }

  /**
   * Media flows: every receiver that can decrypt a sender reports the sender's
   * current KID, as the frame Worker does on a first frame under a new KID.
   */
  mediaFlows(): void {
    for (const s of this.present()) {
      const l = s.sink.local;
      if (!l) continue;
      for (const r of this.present()) if (r !== s && canDecrypt(r, s)) r.agreement.handleKidSeen(s.id, l.kid);
    }
  }
}

/**
 * A member the test plays itself (an insider holding the room secret): its
 * commitment and reveal for a round, made with the same crypto as the real one.
 */
class Insider {
  readonly keys: KeyPair = generateKeyPair();
  constructor(
    readonly id: string,
    readonly slot: number,
    private readonly authKey: Uint8Array,
  ) {}

  messages(info: RoundInfo, publicKey = this.keys.publicKey): { c: Commitment; r: Reveal } {
    const ctx = roundContext(ROOM, info.round, info.members);
    const nonce = randomBytes(32);
    const commitment = commitTo(ctx, publicKey, nonce);
    const mac = commitmentMac(this.authKey, ROOM, this.id, this.slot, ctx, commitment);
    return { c: { peerId: this.id, round: info.round, commitment, mac }, r: { peerId: this.id, round: info.round, publicKey, nonce } };
  }
}

/** The receiver holds a key for the sender's current KID, attributed to the sender, with the same bytes. */
function canDecrypt(receiver: Participant, sender: Participant): boolean {
  const l = sender.sink.local;
  if (!l) return false;
  const held = receiver.sink.receive.get(l.kid);
  return held !== undefined && held.peerId === sender.id && equalBytes(held.key, l.key);
}

function expectFullMesh(ps: Participant[]): void {
  for (const r of ps) for (const s of ps) if (r !== s) expect(canDecrypt(r, s), `${r.id} decrypts ${s.id}`).toBe(true);
}

function warnings(p: Participant): { peerId: string; reason: WarningReason }[] {
  return p.events.flatMap((e) => (e.type === 'warning' ? [{ peerId: e.peerId, reason: e.reason }] : []));
}

function localKey(p: Participant): { kid: bigint; key: Uint8Array } {
  const l = p.sink.local;
  if (!l) throw new Error(`${p.id} has no send key`);
  return { kid: l.kid, key: l.key.slice() };
}

function ratchetN(key: Uint8Array, n: number): Uint8Array {
  let k = key;
  for (let i = 0; i < n; i++) k = ratchetBaseKey(k);
  return k;
}

function hexSet(keys: Iterable<Uint8Array>): Set<string> {
  return new Set([...keys].map((k) => bytesToHex(k)));
}

function isAck(box: Uint8Array): boolean {
  return box.length === ACK_BOX_BYTES;
}

/** The attacker tries every pairing and context it could think of on every box the relay saw. */
function attackerOpens(sent: Sent[], attacker: KeyPair, publicKeys: Uint8Array[], authKeys: Uint8Array[], ids: string[]): number {
  let opened = 0;
  for (const s of sent) {
    for (const pk of publicKeys) {
      for (const authKey of authKeys) {
        let pw: Uint8Array;
        try {
          pw = pairwiseKey(attacker, pk, authKey, ROOM);
        } catch {
          continue;
        }
        for (const from of ids) {
          for (const to of ids) {
            try {
              openKeyBox(pw, { roomId: ROOM, from, to, kid: s.kid }, s.box);
              opened++;
            } catch {
              // expected: the attacker shares no key with anyone
            }
          }
        }
      }
    }
  }
  return opened;
}

// -------------------------------------------------------------------- tests

describe('KeyAgreement: convergence and safety code', () => {
  it('two then three participants converge, with the same safety code everywhere, new with every round', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    expectFullMesh([a, b]);
    expect(a.agreement.verifiedPeers).toEqual(['B']);
    expect(b.agreement.verifiedPeers).toEqual(['A']);
    const code2 = a.agreement.safetyCode;
    expect(code2).toMatch(/^\d{3} \d{3}$/);
    expect(b.agreement.safetyCode).toBe(code2);

    const c = await h.join('C');
    await h.settle();
    expectFullMesh([a, b, c]);
    const code3 = a.agreement.safetyCode;
    expect(b.agreement.safetyCode).toBe(code3);
    expect(c.agreement.safetyCode).toBe(code3);
    expect(code3).not.toBe(code2);
    expect(new Set(c.agreement.verifiedPeers)).toEqual(new Set(['A', 'B']));

    await h.leave('C');
    await h.settle();
    expectFullMesh([a, b]);
    expect(a.agreement.safetyCode).toBe(b.agreement.safetyCode);
    // Same two identity keys, but the round's fresh nonces make a new code.
    expect(a.agreement.safetyCode).not.toBe(code3);
    expect(a.agreement.safetyCode).not.toBe(code2);
    expect(a.agreement.verifiedPeers).toEqual(['B']);
    expect(a.agreement.roundState).toEqual({ round: 4, complete: true });

    for (const p of [a, b, c]) expect(warnings(p)).toEqual([]);
    expect(h.refused).toEqual([]);
  });

  it('shows no code while a round is under way', async () => {
    const h = new Harness();
    const a = await h.join('A');
    expect(a.agreement.safetyCode).toMatch(/^\d{3} \d{3}$/); // alone: the round completes at once
    // The relay holds back every reveal.
    const held: Msg[] = [];
    h.intercept = (m) => (m.kind === 'reveal' ? (held.push(m), []) : [m]);
    const b = await h.join('B');
    await h.settle();
    expect(a.agreement.safetyCode).toBeUndefined();
    expect(b.agreement.safetyCode).toBeUndefined();
    expect(a.agreement.verifiedPeers).toEqual([]);
    expect(a.agreement.roundState).toEqual({ round: 2, complete: false });
    h.intercept = undefined;
    for (const m of held) h.inject(m);
    await h.settle();
    expect(a.agreement.safetyCode).toMatch(/^\d{3} \d{3}$/);
    expect(b.agreement.safetyCode).toBe(a.agreement.safetyCode);
    expectFullMesh([a, b]);
  });

  it('uses distinct slots in the KIDs and attributes every received key to its sender', async () => {
    const h = new Harness();
    const ps = [await h.join('A'), await h.join('B'), await h.join('C'), await h.join('D')];
    await h.settle();
    expectFullMesh(ps);
    for (const p of ps) {
      expect(parseKid(localKey(p).kid).slot).toBe(p.slot);
      for (const [kid, held] of p.sink.receive) expect(parseKid(kid).slot).toBe(h.get(held.peerId).slot);
    }
  });
});

describe('KeyAgreement: join ratchet', () => {
  it('ratchets every sender when someone joins and gives the newcomer only ratcheted keys', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    h.mediaFlows();
    const aBefore = localKey(a);
    const bBefore = localKey(b);
    // Every key A or B sent under before C came.
    const before = hexSet([...a.material.filter((m) => m.owner === 'A'), ...b.material.filter((m) => m.owner === 'B')].map((m) => m.key));
    const aUsed = a.material.filter((m) => m.owner === 'A');
    expect(aUsed.length).toBe(2); // its first key, and the ratchet when B joined
    const sentBefore = h.sent.length;

    const c = await h.join('C');
    await h.settle();

    for (const [p, old] of [
      [a, aBefore],
      [b, bBefore],
    ] as const) {
      const now = localKey(p);
      const o = parseKid(old.kid);
      expect(parseKid(now.kid)).toEqual({ slot: p.slot, epoch: o.epoch, step: o.step + 1 });
      expect(bytesToHex(now.key)).toBe(bytesToHex(ratchetBaseKey(old.key)));
    }
    // C got what it needs, and nothing older.
    expectFullMesh([a, b, c]);
    const cReceived = c.material.filter((m) => m.owner !== 'C');
    expect(cReceived.length).toBeGreaterThan(0);
    for (const m of cReceived) {
      for (let i = 0; i < 4; i++) expect(before.has(bytesToHex(ratchetN(m.key, i))), `C's key for ${m.owner}, +${i}`).toBe(false);
    }
    expect(c.sink.receive.get(aBefore.kid)?.key ?? new Uint8Array()).not.toEqual(aBefore.key);
    expect(c.sink.receive.get(bBefore.kid)?.key ?? new Uint8Array()).not.toEqual(bBefore.key);
    // Existing receivers followed the ratchet with no message between A and B.
    const newMsgs = h.sent.slice(sentBefore);
    expect(newMsgs.filter((s) => (s.from === 'A' && s.to === 'B') || (s.from === 'B' && s.to === 'A'))).toEqual([]);
    // The boxes to C carry the ratcheted keys.
    expect(newMsgs.filter((s) => s.to === 'C' && !isAck(s.box)).map((s) => s.from).sort()).toEqual(['A', 'B']);
  });

  it('keeps existing receivers decrypting right after each ratchet, with no message, across several joins', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    const fromAtoB = () => h.sent.filter((s) => s.from === 'A' && s.to === 'B').length;
    const n = fromAtoB();
    // Two joins back to back, before B reports any frame: lookahead covers both steps.
    await h.join('C');
    expect(canDecrypt(b, a)).toBe(true);
    await h.join('D');
    await h.settle();
    expect(parseKid(localKey(a).kid).step).toBe(3); // B, C, D joined after A
    expect(canDecrypt(b, a)).toBe(true);
    h.mediaFlows();
    await h.join('E');
    await h.settle();
    expect(canDecrypt(b, a)).toBe(true);
    expect(fromAtoB()).toBe(n);
    expectFullMesh(h.present());
  });

  it('members of our first round (there before us) cause no ratchet', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    // A was in B's first round: B sends under its first key.
    expect(parseKid(localKey(b).kid).step).toBe(0);
    expect(parseKid(localKey(a).kid).step).toBe(1);
    expectFullMesh([a, b]);
  });
});

describe('KeyAgreement: leave', () => {
  it('draws a fresh random epoch key on leave, switches once everybody acked, and the leaver gets none of it', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    const c = await h.join('C');
    const d = await h.join('D');
    await h.settle();
    h.mediaFlows();
    const remaining = [a, b, d];
    const old = new Map(remaining.map((p) => [p.id, localKey(p)]));
    expect(b.sink.keysOf('C').size).toBeGreaterThan(0);

    // B's keyring forgets C the moment B hears of the leave.
    b.agreement.handlePeerLeft('C');
    expect(b.sink.keysOf('C').size).toBe(0);

    // A relay colluding with the leaver: C keeps listening and gets a copy of every box.
    const sentBefore = h.sent.length;
    h.intercept = (m) => (m.kind === 'deliver' && m.to !== 'C' ? [m, { ...m, to: 'C' }] : [m]);
    const t0 = h.clock.now;
    await h.leave('C', { keepListening: true });
    await h.settle();
    expect(h.clock.now).toBe(t0); // no timeout needed: all acks came

    const fresh = new Set<string>();
    for (const p of remaining) {
      const was = old.get(p.id)!;
      const now = localKey(p);
      const o = parseKid(was.kid);
      expect(parseKid(now.kid)).toEqual({ slot: p.slot, epoch: (o.epoch + 1) & 3, step: 0 });
      expect(now.kid).not.toBe(was.kid);
      // Random, not derived from the old chain.
      for (let i = 0; i < 8; i++) expect(now.key).not.toEqual(ratchetN(was.key, i));
      fresh.add(bytesToHex(now.key));
    }
    expect(fresh.size).toBe(3);
    expectFullMesh(remaining);
    // The leaver: nothing addressed to it, nothing it could open, no new key in its hands.
    expect(h.sent.slice(sentBefore).filter((s) => s.to === 'C')).toEqual([]);
    const cKeys = c.material.map((m) => m.key);
    for (const k of cKeys) for (let i = 0; i < 4; i++) expect(fresh.has(bytesToHex(ratchetN(k, i)))).toBe(false);
    expect(warnings(c).every((w) => w.reason === 'bad-key-box')).toBe(true);
    expect(warnings(c).length).toBeGreaterThan(0); // it did try the copies
    for (const p of remaining) expect(p.sink.keysOf('C').size).toBe(0);
    for (const p of remaining) expect(warnings(p)).toEqual([]);
  });

  it('switches after ackTimeoutMs when one participant never acknowledges', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    const c = await h.join('C');
    const d = await h.join('D');
    await h.settle();
    h.mediaFlows();
    // The relay drops every acknowledgement D sends.
    h.intercept = (m) => (m.kind === 'deliver' && m.d.from === 'D' && isAck(m.d.box) ? [] : [m]);
    const oldA = localKey(a);
    const oldB = localKey(b);
    await h.leave('C');
    expect(c.left).toBe(true);
    // Everyone received the fresh keys already, but A and B wait for D.
    expect(localKey(a).kid).toBe(oldA.kid);
    expect(localKey(b).kid).toBe(oldB.kid);
    expect(parseKid(localKey(d).kid).epoch).toBe(1); // D heard both acks: switched at once
    expect(canDecrypt(a, d) && canDecrypt(b, d)).toBe(true);
    await h.advance(699);
    expect(localKey(a).kid).toBe(oldA.kid);
    expect(localKey(b).kid).toBe(oldB.kid);
    await h.advance(1);
    expect(parseKid(localKey(a).kid).epoch).toBe(parseKid(oldA.kid).epoch + 1);
    expect(parseKid(localKey(b).kid).epoch).toBe(parseKid(oldB.kid).epoch + 1);
    expectFullMesh([a, b, d]);
    await h.settle();
  });

  it('with two left, waits for the one ack only, and a custom ackTimeoutMs is honoured', async () => {
    const h = new Harness();
    const a = await h.join('A', { ackTimeoutMs: 5000 });
    const b = await h.join('B');
    await h.join('C');
    await h.settle();
    let holdAcks = true;
    const held: Msg[] = [];
    h.intercept = (m) => {
      if (holdAcks && m.kind === 'deliver' && m.to === 'A' && isAck(m.d.box)) {
        held.push(m);
        return [];
      }
      return [m];
    };
    const old = localKey(a);
    await h.leave('C');
    await h.advance(4999);
    expect(localKey(a).kid).toBe(old.kid);
    // The ack arrives: A switches without waiting for the timeout.
    holdAcks = false;
    for (const m of held) h.inject(m);
    await h.flush();
    expect(parseKid(localKey(a).kid).epoch).toBe(1);
    expectFullMesh([a, b]);
  });
  it('wraps the epoch bits after four leaves: the fresh key replaces the stale one under the reused KID', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    for (const id of ['C', 'D', 'E', 'F']) {
      await h.join(id);
      await h.settle();
      h.mediaFlows(); // no clock advance: nothing is pruned, stale keys pile up
    }
    const kidsAt = (epoch: number) => [...b.sink.keysOf('A').keys()].filter((k) => parseKid(k).epoch === epoch);
    expect(kidsAt(0).length).toBeGreaterThan(0);
    for (const id of ['C', 'D', 'E', 'F']) {
      await h.leave(id);
      await h.settle();
      expectFullMesh([a, b]);
      h.mediaFlows();
    }
    const now = localKey(a);
    expect(parseKid(now.kid)).toEqual({ slot: a.slot, epoch: 0, step: 0 }); // epoch 4 wraps to 0
    expect(b.sink.receive.get(now.kid)?.key).toEqual(now.key);
    await h.advance(2000);
    expect(kidsAt(0).length).toBe(3);
    expect([...b.sink.keysOf('A').keys()].every((k) => parseKid(k).epoch === 0)).toBe(true);
  });
});

describe('KeyAgreement: previous keys', () => {
  it('removes the previous key previousKeyMs after the first frame under the new one, not before', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    h.mediaFlows();
    const old = localKey(a);
    a.agreement.handleCounterHigh();
    await h.settle();
    const now = localKey(a);
    expect(now.kid).not.toBe(old.kid);
    await h.advance(5000); // no frame under the new key reported yet: nothing pruned
    expect(b.sink.receive.get(old.kid)?.peerId).toBe('A');
    h.mediaFlows(); // B's Worker reports A's new KID
    await h.advance(1999);
    expect(b.sink.receive.get(old.kid)?.key).toEqual(old.key);
    await h.advance(1);
    expect(b.sink.receive.has(old.kid)).toBe(false);
    expect(canDecrypt(b, a)).toBe(true);
    // The lookahead past the new key is still there.
    for (let i = 1; i <= 2; i++) {
      const kid = makeKid({ ...parseKid(now.kid), step: parseKid(now.kid).step + i });
      expect(b.sink.receive.get(kid)?.key).toEqual(ratchetN(now.key, i));
    }
  });

  it('keeps each previous key the full previousKeyMs when switches come less than previousKeyMs apart', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    h.mediaFlows();
    const k1 = localKey(a);
    a.agreement.handleCounterHigh();
    await h.settle();
    h.mediaFlows(); // t = 0: first frame under k2, k1 due to go at t = 2000
    const k2 = localKey(a);
    await h.advance(1900);
    a.agreement.handleCounterHigh();
    await h.settle();
    h.mediaFlows(); // t = 1900: first frame under k3, k2 due to go at t = 3900
    await h.advance(100);
    expect(b.sink.receive.get(k1.kid)?.key).not.toEqual(k1.key); // k1 went (its KID now holds a lookahead key)
    expect(b.sink.receive.get(k2.kid)?.key).toEqual(k2.key); // late frames under k2 still decrypt
    await h.advance(1899); // t = 3899
    expect(b.sink.receive.get(k2.kid)?.key).toEqual(k2.key);
    await h.advance(1); // t = 3900
    expect(b.sink.receive.has(k2.kid)).toBe(false);
    expect(canDecrypt(b, a)).toBe(true);
  });

  it('honours a custom previousKeyMs', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B', { previousKeyMs: 300 });
    await h.settle();
    h.mediaFlows();
    const old = localKey(a);
    a.agreement.handleCounterHigh();
    await h.settle();
    h.mediaFlows();
    await h.advance(299);
    expect(b.sink.receive.has(old.kid)).toBe(true);
    await h.advance(1);
    expect(b.sink.receive.has(old.kid)).toBe(false);
  });

  it('does not prune a new epoch key delivered ahead of the switch', async () => {
    const h = new Harness();
    const a = await h.join('A', { ackTimeoutMs: 10_000 });
    const b = await h.join('B');
    await h.join('D');
    await h.settle();
    h.mediaFlows();
    const s0 = localKey(a);
    a.agreement.handleCounterHigh();
    await h.settle();
    h.mediaFlows(); // B sees A's next step: prune of s0 due in 2 s
    const t0 = h.clock.now;
    await h.advance(100);
    // D leaves; B's acknowledgement to A is lost, so A keeps the old epoch for 10 s.
    h.intercept = (m) => (m.kind === 'deliver' && m.d.from === 'B' && m.to === 'A' && isAck(m.d.box) ? [] : [m]);
    await h.leave('D');
    expect(parseKid(localKey(a).kid).epoch).toBe(0);
    const ahead = b.material.filter((m) => m.owner === 'A' && parseKid(m.kid).epoch === 1);
    expect(ahead.length).toBe(3); // the explicit key and two steps of lookahead
    await h.advance(t0 + 2500 - h.clock.now);
    expect(b.sink.receive.has(s0.kid)).toBe(false); // the old key went
    for (const m of ahead) expect(b.sink.receive.get(m.kid)?.key).toEqual(m.key); // the new epoch stayed
    expect(canDecrypt(b, a)).toBe(true);
    await h.advance(10_000);
    expect(parseKid(localKey(a).kid)).toEqual({ slot: a.slot, epoch: 1, step: 0 });
    expect(canDecrypt(b, a)).toBe(true);
    h.mediaFlows();
    await h.advance(2000);
    // Only the new epoch remains for A at B.
    expect([...b.sink.keysOf('A').keys()].map((k) => parseKid(k).epoch)).toEqual([1, 1, 1]);
  });

  it('erases every key of the old epoch once the sender switched, even a lookahead made from a late report', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.join('D');
    await h.settle();
    h.mediaFlows();
    a.agreement.handleCounterHigh();
    await h.settle();
    const last = localKey(a); // A's last key of epoch 0
    await h.leave('D'); // A and B move to epoch 1 (acks flow at once)
    expect(parseKid(localKey(a).kid).epoch).toBe(1);
    // Frames A sent under its last epoch-0 key arrive late: B's Worker reports that KID only now.
    b.agreement.handleKidSeen('A', last.kid);
    h.mediaFlows(); // then the first frame under epoch 1
    await h.advance(2000);
    // D knew A's whole epoch-0 chain: no key of it may stay at B.
    expect([...b.sink.keysOf('A').keys()].map((k) => parseKid(k).epoch)).toEqual([1, 1, 1]);
    expect(canDecrypt(b, a)).toBe(true);
  });
});

describe('KeyAgreement: counter ratchet', () => {
  it('steps the sender to the next KID on handleCounterHigh; receivers follow without any message', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    const c = await h.join('C');
    await h.settle();
    h.mediaFlows();
    const sentBefore = h.sent.length;
    for (let i = 0; i < 9; i++) {
      const old = localKey(a);
      a.agreement.handleCounterHigh();
      await h.settle();
      const now = localKey(a);
      const o = parseKid(old.kid);
      expect(parseKid(now.kid)).toEqual({ slot: a.slot, epoch: o.epoch, step: (o.step + 1) & 3 });
      expect(now.key).toEqual(ratchetBaseKey(old.key));
      expect(canDecrypt(b, a)).toBe(true);
      expect(canDecrypt(c, a)).toBe(true);
      h.mediaFlows();
      if (i % 2 === 0) await h.advance(2000); // sometimes the previous key is gone, sometimes not
    }
    expect(h.sent.length).toBe(sentBefore);
    expectFullMesh([a, b, c]);
  });
});

describe('KeyAgreement: malicious relay', () => {
  /** The relay's replacement of B's commitment and reveal by ones over the attacker's key (same nonce per round). */
  function swapB(h: Harness, attacker: KeyPair, mac: (ctx: Uint8Array, commitment: Uint8Array, original: Uint8Array) => Uint8Array, to?: string) {
    const nonces = new Map<number, Uint8Array>();
    const nonceOf = (round: number) => nonces.get(round) ?? nonces.set(round, randomBytes(32)).get(round)!;
    return (m: Msg): Msg[] => {
      if (to !== undefined && m.to !== to) return [m];
      if (m.kind === 'commit' && m.c.peerId === 'B') {
        const info = h.rounds.info!;
        const ctx = roundContext(ROOM, info.round, info.members);
        const commitment = commitTo(ctx, attacker.publicKey, nonceOf(m.c.round));
        return [{ ...m, c: { ...m.c, commitment, mac: mac(ctx, commitment, m.c.mac) } }];
      }
      if (m.kind === 'reveal' && m.r.peerId === 'B') return [{ ...m, r: { ...m.r, publicKey: attacker.publicKey, nonce: nonceOf(m.r.round) } }];
      return [m];
    };
  }

  it.each([
    ['a MAC under a wrong auth key', 'wrong-key'],
    ["B's original MAC", 'original'],
  ] as const)("refuses B's key swapped for an attacker's with %s, and the attacker opens nothing", async (_name, macKind) => {
    const h = new Harness();
    const attacker = generateKeyPair();
    const wrongAuthKey = deriveRoomAuthKey(generateRoomSecret(), ROOM);
    h.intercept = swapB(h, attacker, (ctx, commitment, original) =>
      macKind === 'original' ? original : commitmentMac(wrongAuthKey, ROOM, 'B', 1, ctx, commitment),
    );
    const a = await h.join('A');
    const b = await h.join('B');
    const c = await h.join('C');
    await h.settle();
    h.mediaFlows();
    await h.leave('C');
    await h.advance(1000);
    await h.settle();

    expect(warnings(a)).toContainEqual({ peerId: 'B', reason: 'bad-commitment' });
    expect(warnings(c)).toContainEqual({ peerId: 'B', reason: 'bad-commitment' });
    expect(a.agreement.verifiedPeers).not.toContain('B');
    expect(a.agreement.rejectedPeers).toContain('B');
    expect(a.sink.keysOf('B').size).toBe(0);
    expect(canDecrypt(b, a)).toBe(false);
    // A never addressed a key to "B" (whose key it could not verify).
    expect(h.sent.filter((s) => s.from === 'A' && s.to === 'B')).toEqual([]);
    // The attacker, even knowing the room secret, opens none of the boxes the relay carried.
    const pks = [a, b, c].map((p) => p.agreement.identity.publicKey);
    expect(h.sent.length).toBeGreaterThan(5);
    expect(attackerOpens(h.sent, attacker, pks, [wrongAuthKey, h.authKey], ['A', 'B', 'C'])).toBe(0);
    // The codes differ: A does not count B in.
    expect(a.agreement.safetyCode).not.toBe(b.agreement.safetyCode);
  });

  it.each([
    ['another public key', 'key'],
    ['another nonce', 'nonce'],
  ] as const)('refuses a reveal with %s than its commitment (bad-reveal) and boxes nothing to it', async (_name, what) => {
    const h = new Harness();
    const attacker = generateKeyPair();
    const a = await h.join('A');
    h.intercept = (m) =>
      m.kind === 'reveal' && m.r.peerId === 'B'
        ? [{ ...m, r: what === 'key' ? { ...m.r, publicKey: attacker.publicKey } : { ...m.r, nonce: flip(m.r.nonce, 0) } }]
        : [m];
    const b = await h.join('B');
    await h.settle();
    expect(warnings(a)).toEqual([{ peerId: 'B', reason: 'bad-reveal' }]);
    expect(a.agreement.verifiedPeers).toEqual([]);
    expect(a.agreement.rejectedPeers).toEqual(['B']);
    expect(h.sent.filter((s) => s.from === 'A' && s.to === 'B')).toEqual([]);
    expect(a.sink.keysOf('B').size).toBe(0); // B's key box to A was not opened either
    expect(attackerOpens(h.sent, attacker, [a.agreement.identity.publicKey, b.agreement.identity.publicKey], [h.authKey], ['A', 'B'])).toBe(0);
    expect(a.agreement.safetyCode).not.toBe(b.agreement.safetyCode);
  });

  it('refuses a commitment moved to another round or another member, and ignores one of an old round', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    const bRound2 = h.commits.find((c) => c.peerId === 'B' && c.round === 2)!;
    // C joins (round 3). To A the relay gives, for B: the round-2 commitment as is (old: ignored),
    // then relabelled round 3 (another round context: refused).
    h.intercept = (m) =>
      m.to === 'A' && m.kind === 'commit' && m.c.peerId === 'B' ? [{ ...m, c: bRound2 }, { ...m, c: { ...bRound2, round: 3 } }] : [m];
    const c = await h.join('C');
    await h.settle();
    expect(warnings(a)).toEqual([{ peerId: 'B', reason: 'bad-commitment' }]);
    // C's commitment presented as D's (an insider's place): the MAC names C.
    const h2 = new Harness();
    const x = await h2.join('X');
    h2.extraMembers.push({ peerId: 'D', slot: 7 });
    h2.intercept = (m) => (m.kind === 'commit' && m.c.peerId === 'Y' ? [m, { ...m, c: { ...m.c, peerId: 'D' } }] : [m]);
    await h2.join('Y');
    await h2.settle();
    expect(warnings(x)).toEqual([{ peerId: 'D', reason: 'bad-commitment' }]);
    expectFullMesh([a, b, c]);
  });

  type Tamper = (m: Extract<Msg, { kind: 'deliver' }>) => Msg;
  // name, tampering, and whom B blames (the stamped sender)
  const tamperings: [string, Tamper, string][] = [
    ['a flipped nonce byte', (m) => ({ ...m, d: { ...m.d, box: flip(m.d.box, 3) } }), 'A'],
    ['a flipped ciphertext byte', (m) => ({ ...m, d: { ...m.d, box: flip(m.d.box, 30) } }), 'A'],
    ['a flipped tag byte', (m) => ({ ...m, d: { ...m.d, box: flip(m.d.box, m.d.box.length - 1) } }), 'A'],
    ['a truncated box', (m) => ({ ...m, d: { ...m.d, box: m.d.box.slice(0, -1) } }), 'A'],
    ['an extended box', (m) => ({ ...m, d: { ...m.d, box: Uint8Array.from([...m.d.box, 0]) } }), 'A'],
    ['another step in the KID', (m) => ({ ...m, d: { ...m.d, kid: m.d.kid ^ 1 } }), 'A'],
    ['another epoch in the KID', (m) => ({ ...m, d: { ...m.d, kid: m.d.kid ^ 4 } }), 'A'],
    ['another slot in the KID', (m) => ({ ...m, d: { ...m.d, kid: m.d.kid ^ 0x10 } }), 'A'],
    ['a KID past one byte (same low byte)', (m) => ({ ...m, d: { ...m.d, kid: m.d.kid + 256 } }), 'A'],
    ['a negative KID (same low byte)', (m) => ({ ...m, d: { ...m.d, kid: m.d.kid - 256 } }), 'A'],
    ['a fractional KID', (m) => ({ ...m, d: { ...m.d, kid: m.d.kid + 0.5 } }), 'A'],
    ['another sender stamped', (m) => ({ ...m, d: { ...m.d, from: 'C' } }), 'C'],
  ];

  it.each(tamperings)("refuses A's key box to B with %s, installing nothing", async (_name, tamper, blamed) => {
    const h = new Harness();
    h.intercept = (m) => (m.kind === 'deliver' && m.d.from === 'A' && m.to === 'B' && !isAck(m.d.box) ? [tamper(m)] : [m]);
    const a = await h.join('A');
    const c = await h.join('C');
    const b = await h.join('B');
    await h.settle();
    expect(warnings(b)).toEqual([{ peerId: blamed, reason: 'bad-key-box' }]);
    expect(b.sink.keysOf('A').size).toBe(0);
    expect(b.material.filter((m) => m.owner === 'A')).toEqual([]);
    expect(canDecrypt(b, a)).toBe(false);
    // Everyone else is fine.
    expect(canDecrypt(a, b) && canDecrypt(c, b) && canDecrypt(b, c) && canDecrypt(a, c) && canDecrypt(c, a)).toBe(true);
  });

  it('refuses key boxes swapped between recipients', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    // C's first key goes to A and to B in two boxes: the relay swaps them.
    const held: Extract<Msg, { kind: 'deliver' }>[] = [];
    h.intercept = (m) => {
      if (m.kind !== 'deliver' || m.d.from !== 'C' || isAck(m.d.box)) return [m];
      held.push(m);
      if (held.length < 2) return [];
      const [x, y] = held as [Extract<Msg, { kind: 'deliver' }>, Extract<Msg, { kind: 'deliver' }>];
      return [
        { ...x, to: y.to },
        { ...y, to: x.to },
      ];
    };
    const c = await h.join('C');
    await h.settle();
    expect(held.map((m) => m.to).sort()).toEqual(['A', 'B']);
    for (const p of [a, b]) {
      expect(warnings(p)).toContainEqual({ peerId: 'C', reason: 'bad-key-box' });
      expect(p.sink.keysOf('C').size).toBe(0);
      expect(canDecrypt(p, c)).toBe(false);
    }
    expect(canDecrypt(c, a) && canDecrypt(c, b)).toBe(true);
  });

  it('refuses an acknowledgement that was tampered with or replayed as another KID', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.join('C');
    await h.settle();
    // Every ack to A: one flipped copy, one with another KID, and no genuine one.
    h.intercept = (m) =>
      m.kind === 'deliver' && m.to === 'A' && isAck(m.d.box)
        ? [
            { ...m, d: { ...m.d, box: flip(m.d.box, 40) } },
            { ...m, d: { ...m.d, kid: m.d.kid ^ 1 } },
          ]
        : [m];
    const old = localKey(a);
    await h.leave('C');
    expect(localKey(a).kid).toBe(old.kid); // no valid ack: still waiting
    expect(warnings(a).filter((w) => w.reason === 'bad-key-box').length).toBeGreaterThan(0);
    await h.advance(700);
    expect(parseKid(localKey(a).kid).epoch).toBe(1);
    expectFullMesh([a, b]);
  });

  it('refuses a replayed key box: a leaver and the relay cannot bring back a key that was erased', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.join('D');
    await h.settle();
    h.mediaFlows();
    const oldBoxes = h.sent.filter((s) => s.from === 'A' && s.to === 'B' && !isAck(s.box));
    expect(oldBoxes.length).toBe(1); // A's key for B when B joined, which D can derive too
    const oldKid = BigInt(oldBoxes[0]!.kid);
    await h.leave('D');
    h.mediaFlows();
    await h.advance(2000);
    expect(b.sink.keysOf('A').has(oldKid)).toBe(false);
    // The relay replays every box A ever sent B (the epoch-0 one and the current one).
    for (const s of h.sent.filter((x) => x.from === 'A' && x.to === 'B')) h.inject({ kind: 'deliver', to: 'B', d: { from: 'A', kid: s.kid, box: s.box } });
    await h.settle();
    await h.advance(5000);
    expect([...b.sink.keysOf('A').keys()].map((k) => parseKid(k).epoch)).toEqual([1, 1, 1]);
    expect(b.material.filter((m) => m.owner === 'A' && m.kid === oldKid).length).toBe(1); // held once, never again
    expect(canDecrypt(b, a)).toBe(true);
  });

  it('refuses a key for another slot from a verified participant (wrong-slot)', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    const c = await h.join('C');
    await h.settle();
    // C (an insider: verified, with the link) boxes a key under A's slot to B.
    const forged = new Uint8Array(32).fill(0x5a);
    const kid = Number(makeKid({ slot: a.slot, epoch: 2, step: 0 }));
    const pw = pairwiseKey(c.agreement.identity, b.agreement.identity.publicKey, h.authKey, ROOM);
    h.inject({ kind: 'deliver', to: 'B', d: { from: 'C', kid, box: sealKeyBox(pw, { roomId: ROOM, from: 'C', to: 'B', kid }, { type: 'key', baseKey: forged }) } });
    await h.settle();
    expect(warnings(b)).toEqual([{ peerId: 'C', reason: 'wrong-slot' }]);
    expect(b.sink.receive.has(BigInt(kid))).toBe(false);
    expect(b.material.some((m) => equalBytes(m.key, forged))).toBe(false);
    expectFullMesh([a, b, c]);
  });

  it('does not take a delayed acknowledgement of an older key for the new epoch key', async () => {
    const h = new Harness();
    const a = await h.join('A');
    // B's ack of A's first key box is held back by the relay.
    const held: Msg[] = [];
    h.intercept = (m) => {
      if (m.kind === 'deliver' && m.d.from === 'B' && m.to === 'A' && isAck(m.d.box)) {
        held.push(m);
        return [];
      }
      return [m];
    };
    const b = await h.join('B');
    await h.join('C');
    await h.settle();
    expect(held.length).toBe(1);
    const old = localKey(a);
    // C leaves: the relay drops B's acknowledgement of the new key and releases the old one.
    const late = held.splice(0);
    h.intercept = (m) => (m.kind === 'deliver' && m.d.from === 'B' && m.to === 'A' && isAck(m.d.box) ? [] : [m]);
    await h.leave('C');
    for (const m of late) h.inject(m);
    await h.flush();
    expect(localKey(a).kid).toBe(old.kid);
    await h.advance(700);
    expect(parseKid(localKey(a).kid).epoch).toBe(1);
    expectFullMesh([a, b]);
  });

  it('warns of a slot already taken by an admitted participant', async () => {
    const h = new Harness();
    const a = await h.join('A', { slot: 3 });
    const b = await h.join('B', { slot: 5 });
    await h.settle();
    // The relay starts a round in which an insider G sits on B's slot, B unlisted (and no peerLeft for B).
    const g = new Insider('G', 5, h.authKey);
    const info: RoundInfo = { round: 10, members: [{ peerId: 'A', slot: 3 }, { peerId: 'G', slot: 5 }] };
    const { c, r } = g.messages(info);
    h.inject({ kind: 'round', to: 'A', info });
    h.inject({ kind: 'commit', to: 'A', c });
    h.inject({ kind: 'reveal', to: 'A', r });
    await h.settle();
    expect(warnings(a)).toEqual([{ peerId: 'G', reason: 'slot-conflict' }]);
    expect(a.agreement.verifiedPeers).toEqual(['B']);
    expect(a.agreement.rejectedPeers).toEqual(['G']);
    // B's keys are still attributed to B only; nothing went to G.
    for (const [kid, held] of a.sink.receive) expect(held.peerId).toBe(parseKid(kid).slot === 5 ? 'B' : '?');
    expect(h.sent.filter((s) => s.from === 'A' && s.to === 'G')).toEqual([]);
    expect(canDecrypt(a, b) && canDecrypt(b, a)).toBe(true);
  });

  it.each([
    ['a garbage MAC', 'garbage', 'bad-commitment'],
    ['a valid MAC (an insider with the link)', 'valid', 'key-changed'],
  ] as const)('warns of a changed key for a known participant in a later round (%s), keeps the first one, leaves it out of the code', async (_name, macKind, reason) => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    const attacker = generateKeyPair();
    h.intercept = swapB(h, attacker, (ctx, commitment) => (macKind === 'valid' ? commitmentMac(h.authKey, ROOM, 'B', b.slot, ctx, commitment) : new Uint8Array(32).fill(7)), 'A');
    const c = await h.join('C');
    await h.settle();
    expect(warnings(a)).toEqual([{ peerId: 'B', reason }]);
    expect(new Set(a.agreement.verifiedPeers)).toEqual(new Set(['B', 'C']));
    expectFullMesh([a, b, c]);
    // B and C agree; A, which left B out of this round, shows another code.
    expect(b.agreement.safetyCode).toBe(c.agreement.safetyCode);
    expect(a.agreement.safetyCode).not.toBe(b.agreement.safetyCode);
    const pks = [a, b, c].map((p) => p.agreement.identity.publicKey);
    expect(attackerOpens(h.sent, attacker, pks, [h.authKey], ['A', 'B', 'C'])).toBe(0);
  });

  it('keeps early deliveries from senders not admitted bounded, and opens none that is not genuine', async () => {
    const h = new Harness();
    const a = await h.join('A');
    await h.settle();
    const before = a.events.length;
    for (let i = 0; i < 40; i++) h.inject({ kind: 'deliver', to: 'A', d: { from: 'G', kid: 0x90, box: new Uint8Array(KEY_BOX_BYTES).fill(i) } });
    for (let i = 0; i < 40; i++) h.inject({ kind: 'deliver', to: 'A', d: { from: `X${i}`, kid: 0x90, box: new Uint8Array(KEY_BOX_BYTES) } });
    await h.settle();
    expect(a.events.length).toBe(before);
    expect(a.sink.receive.size).toBe(0);
    // G (an insider with the link) completes a round with A: the queued boxes are tried and refused.
    const g = new Insider('G', 9, h.authKey);
    h.extraMembers.push({ peerId: 'G', slot: 9 });
    const info = h.nextRound();
    const { c, r } = g.messages(info);
    h.inject({ kind: 'round', to: 'A', info });
    h.inject({ kind: 'commit', to: 'A', c });
    h.inject({ kind: 'reveal', to: 'A', r });
    await h.settle();
    const refused = warnings(a).filter((w) => w.peerId === 'G' && w.reason === 'bad-key-box').length;
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(16);
    expect(a.sink.receive.size).toBe(0);
    expect(a.agreement.verifiedPeers).toEqual(['G']);
  });

  it('installs nothing from a participant whose commitment was refused', async () => {
    const h = new Harness();
    const a = await h.join('A');
    h.intercept = (m) => (m.kind === 'commit' && m.c.peerId === 'B' ? [{ ...m, c: { ...m.c, mac: flip(m.c.mac, 0) } }] : [m]);
    const b = await h.join('B');
    await h.settle();
    expect(warnings(a)).toEqual([{ peerId: 'B', reason: 'bad-commitment' }]);
    // B verified A and sent it its key: A did not open it (no bad-key-box), installed nothing.
    expect(h.sent.filter((s) => s.from === 'B' && s.to === 'A').length).toBe(1);
    expect(a.sink.keysOf('B').size).toBe(0);
    expect(canDecrypt(a, b)).toBe(false);
  });
});

function flip(b: Uint8Array, i: number): Uint8Array {
  const out = b.slice();
  out[i] = (out[i] ?? 0) ^ 0x01;
  return out;
}

describe('KeyAgreement: acknowledgements', () => {
  it('acknowledges a key only once the sink says it can decrypt with it', async () => {
    const roomId = 'ack-room';
    const authKey = deriveRoomAuthKey(generateRoomSecret(), roomId);
    const commits: Record<string, Commitment> = {};
    const reveals: Record<string, Reveal> = {};
    const toB: Delivery[] = [];
    const fromB: { to: string; kid: number }[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const make = (selfId: string, slot: number, addRemoteKey: KeySink['addRemoteKey'], deliver: KeyTransport['deliver']) =>
      new KeyAgreement({
        roomId,
        selfId,
        slot,
        authKey,
        sink: { setLocalKey: async () => undefined, addRemoteKey, removeRemoteKey: () => undefined },
        transport: {
          commit: (round, commitment, mac) => (commits[selfId] = { peerId: selfId, round, commitment, mac }),
          reveal: (round, publicKey, nonce) => (reveals[selfId] = { peerId: selfId, round, publicKey, nonce }),
          deliver,
        },
        onEvent: () => undefined,
      });
    const a = make('a', 0, () => undefined, (_to, kid, box) => toB.push({ from: 'a', kid, box }));
    const b = make('b', 1, () => gate, (to, kid) => fromB.push({ to, kid }));
    const info: RoundInfo = { round: 1, members: [{ peerId: 'a', slot: 0 }, { peerId: 'b', slot: 1 }] };
    await a.start(info);
    await b.start(info);
    a.handleCommitment(commits.b!);
    b.handleCommitment(commits.a!);
    a.handleReveal(reveals.b!);
    b.handleReveal(reveals.a!);
    await a.settled();
    await b.settled();
    expect(a.safetyCode).toBe(b.safetyCode);
    const before = fromB.length; // B's own key for A
    expect(toB.length).toBeGreaterThan(0);
    for (const d of toB) b.handleDelivery(d);
    await new Promise((r) => setTimeout(r, 10));
    expect(fromB.length).toBe(before); // not yet: the key is not usable
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(fromB.length).toBe(before + toB.length); // one ack per key box
    a.close();
    b.close();
  });
});

describe('KeyAgreement: rounds', () => {
  it('reveals only once it holds every other member\'s commitment', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    const held: Msg[] = [];
    h.intercept = (m) => (m.kind === 'commit' && m.c.peerId === 'C' && m.to === 'A' ? (held.push(m), []) : [m]);
    const c = await h.join('C');
    await h.settle();
    const revealed = (id: string) => h.reveals.some((r) => r.peerId === id && r.round === 3);
    expect(revealed('A')).toBe(false);
    expect(revealed('B') && revealed('C')).toBe(true);
    expect(a.agreement.verifiedPeers).toEqual(['B']);
    h.intercept = undefined;
    for (const m of held) h.inject(m);
    await h.settle();
    expect(revealed('A')).toBe(true);
    expectFullMesh([a, b, c]);
    expect(new Set([a, b, c].map((p) => p.agreement.safetyCode)).size).toBe(1);
  });

  it('ignores a round that is older, of the same members, malformed, or without us at our slot', async () => {
    const h = new Harness();
    const a = await h.join('A', { slot: 2 });
    const b = await h.join('B', { slot: 4 });
    await h.settle();
    const code = a.agreement.safetyCode;
    const commitsBefore = h.commits.length;
    const A = { peerId: 'A', slot: 2 };
    const B = { peerId: 'B', slot: 4 };
    for (const info of [
      { round: 1, members: [A, B, { peerId: 'C', slot: 5 }] }, // older
      { round: 2, members: [A, B, { peerId: 'C', slot: 5 }] }, // the current number
      { round: 9, members: [B, A] }, // the same members
      { round: 9, members: [B, { peerId: 'C', slot: 5 }] }, // without us
      { round: 9, members: [{ peerId: 'A', slot: 3 }, B] }, // us at another slot
      { round: 9, members: [A, { peerId: 'C', slot: 2 }] }, // two on one slot
      { round: 9, members: [A, B, { peerId: 'B', slot: 6 }] }, // one peer twice
      { round: 9, members: [A, { peerId: 'C', slot: 16 }] }, // a slot out of range
      { round: 2 ** 32, members: [A, { peerId: 'C', slot: 5 }] }, // past 4 bytes
      { round: 9.5, members: [A, { peerId: 'C', slot: 5 }] },
    ]) {
      h.inject({ kind: 'round', to: 'A', info });
    }
    await h.settle();
    expect(a.agreement.roundState).toEqual({ round: 2, complete: true });
    expect(a.agreement.safetyCode).toBe(code);
    expect(h.commits.length).toBe(commitsBefore);
    expect(warnings(a)).toEqual([]);
  });

  it('a join in the middle of a round: the round is dropped, the next one admits everyone', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const held: Msg[] = [];
    h.intercept = (m) => (m.kind === 'reveal' ? (held.push(m), []) : [m]);
    const b = await h.join('B');
    await h.settle();
    expect(a.agreement.verifiedPeers).toEqual([]);
    h.intercept = undefined;
    const c = await h.join('C');
    for (const m of held) h.inject(m); // round 2's reveals, too late: ignored
    await h.settle();
    expectFullMesh([a, b, c]);
    expect(new Set([a, b, c].map((p) => p.agreement.safetyCode)).size).toBe(1);
    expect(a.agreement.roundState).toEqual({ round: 3, complete: true });
    // B was there before C: C does not ratchet for B, but A and B ratchet for C.
    expect(parseKid(localKey(c).kid).step).toBe(0);
    expect(parseKid(localKey(b).kid).step).toBe(1);
    for (const p of [a, b, c]) expect(warnings(p)).toEqual([]);
  });

  it('a leave in the middle of a round: the newcomer that left is never admitted, the rest agree', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    h.intercept = (m) => (m.kind === 'reveal' && m.r.peerId === 'C' ? [] : [m]);
    const c = await h.join('C');
    await h.settle();
    expect(a.agreement.safetyCode).toBeUndefined();
    h.intercept = undefined;
    await h.leave('C');
    await h.advance(1000);
    await h.settle();
    for (const p of [a, b]) {
      expect(p.agreement.verifiedPeers).not.toContain('C');
      expect(p.sink.keysOf('C').size).toBe(0);
    }
    expect(h.sent.filter((s) => s.to === 'C' && !isAck(s.box))).toEqual([]);
    expect(c.material.filter((m) => m.owner !== 'C')).toEqual([]);
    expectFullMesh([a, b]);
    expect(a.agreement.safetyCode).toBe(b.agreement.safetyCode);
    expect(a.agreement.safetyCode).toBeDefined();
  });

  it(`the ${MAX_ABORTED_ROUNDS}rd round dropped after our reveal (someone's reveal withheld) is a security warning`, async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    // The relay withholds B's reveals from A and gets a new round going each time A has revealed.
    h.intercept = (m) => (m.kind === 'reveal' && m.r.peerId === 'B' && m.to === 'A' ? [] : [m]);
    await h.join('C'); // round 3: A reveals, B's reveal never comes
    await h.leave('C'); // round 4 (round 3 dropped after A's reveal: 1)
    await h.join('D'); // round 5 (2)
    expect(warnings(a)).toEqual([]);
    await h.leave('D'); // round 6 (3)
    await h.settle();
    expect(warnings(a)).toEqual([{ peerId: 'B', reason: 'rounds-aborted' }]);
    expect(a.agreement.safetyCode).toBeUndefined();
  });

  it('sends its commitment and reveal again after a resume; the server relays each only once', async () => {
    const h = new Harness();
    const a = await h.join('A');
    const b = await h.join('B');
    await h.settle();
    // A's connection drops as C joins: its commitment never reaches the server.
    h.lose = (from, kind) => from === 'A' && kind === 'commit';
    const c = await h.join('C');
    await h.settle();
    // Only A holds every commitment: its reveal (before its own commitment) is refused by the server.
    expect(b.agreement.safetyCode).toBeUndefined();
    expect(c.agreement.verifiedPeers).toEqual([]);
    expect(h.reveals.filter((r) => r.round === 3).map((r) => r.peerId)).toEqual(['A']);
    expect(h.refused).toEqual(['reveal before commitment']);
    h.lose = undefined;
    a.agreement.resend();
    await h.settle();
    expectFullMesh([a, b, c]);
    expect(new Set([a, b, c].map((p) => p.agreement.safetyCode)).size).toBe(1);
    const relayed = h.relayed.length;
    a.agreement.resend(); // the same commitment and reveal again: taken, not relayed twice
    await h.settle();
    expect(h.relayed.length).toBe(relayed);
    expect(h.refused).toEqual(['reveal before commitment']);
  });
});
