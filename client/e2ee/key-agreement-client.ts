// Wires the pure KeyAgreement (shared/e2ee) to this page: signalling carries
// its key rounds (commitments, reveals) and key boxes, the frame Worker
// (E2eeManager) receives its keys and reports which KID each sender uses.
// Holds what the UI shows: the safety code (absent while a round is under
// way) and security warnings.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { KeyAgreement, type KeyAgreementEvent, type WarningReason } from '../../shared/e2ee/key-agreement.ts';
import { deriveRoomAuthKey } from '../../shared/crypto/room-secret.ts';
import type { RequestOf, ResponseOf } from '../../shared/protocol/signalling.ts';
import type { SignallingClient } from '../call/signalling-client.ts';
import type { E2eeManager } from './e2ee-manager.ts';
import type { ChatKeys } from '../chat/chat-session.ts';
import { ShownMembers } from './shown-members.ts';

export interface SecurityWarning {
  peerId: string;
  reason: WarningReason;
}

export interface KeyAgreementSnapshot {
  safetyCode: string | undefined;
  verifiedPeers: string[];
  warnings: SecurityWarning[];
  localKid: bigint | undefined;
}

export interface KeyLogEntry {
  owner: string;
  kid: number;
  key: string;
}

const MAX_EARLY = 256;

export class KeyAgreementClient {
  private agreement: KeyAgreement | undefined;
  private readonly early: (() => void)[] = [];
  /** The peers this page shows (join answer, peerJoined, peerLeft): the only ones a key round may hold besides us. */
  private readonly shown = new ShownMembers();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly listeners = new Set<() => void>();
  private current: KeyAgreementSnapshot = { safetyCode: undefined, verifiedPeers: [], warnings: [], localKid: undefined };
  /** Called when a participant acknowledged our key: it can read what we send now (chat re-sends to it). */
  onPeerReady: ((peerId: string) => void) | undefined;
  /** Test-only record of every key held (when enabled; compiled out of the production build). */
  readonly keyLog: KeyLogEntry[] | undefined;

  constructor(
    private readonly signalling: SignallingClient,
    private readonly e2ee: E2eeManager,
    private readonly roomSecret: Uint8Array,
    options: { logKeys?: boolean } = {},
  ) {
    this.keyLog = __CONFIDE_TEST_HOOKS__ && options.logKeys ? [] : undefined;
    // Subscribe before joining so nothing is missed; queue until we know who we are.
    this.unsubscribe.push(
      signalling.on('keyRound', (r) => this.whenReady((k) => k.handleRound(r))),
      signalling.on('keyCommitted', (c) =>
        this.whenReady((k) => k.handleCommitment({ peerId: c.peerId, round: c.round, commitment: hexToBytes(c.commitment), mac: hexToBytes(c.mac) })),
      ),
      signalling.on('keyRevealed', (r) =>
        this.whenReady((k) => k.handleReveal({ peerId: r.peerId, round: r.round, publicKey: hexToBytes(r.publicKey), nonce: hexToBytes(r.nonce) })),
      ),
      signalling.on('keyDelivered', (d) => this.whenReady((k) => k.handleDelivery({ from: d.from, kid: d.kid, box: hexToBytes(d.box) }))),
      // Who the page shows, in the same order as the rounds: a round member outside it is refused.
      signalling.on('peerJoined', (p) => this.whenReady((k) => this.displace(k, this.shown.joined(p)))),
      signalling.on('peerLeft', ({ peerId }) =>
        this.whenReady((k) => {
          this.shown.left(peerId);
          k.handlePeerLeft(peerId);
        }),
      ),
    );
    e2ee.onKidSeen = (peerId, kid) => this.agreement?.handleKidSeen(peerId, kid);
    e2ee.onCounterHigh = () => this.agreement?.handleCounterHigh();
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  snapshot = (): KeyAgreementSnapshot => this.current;

  /** Called with the join answer, before media flows. */
  async start(joined: ResponseOf<'join'>, roomId: string): Promise<void> {
    // Displaced ones in the answer itself were never shown: the round's check refuses them.
    this.shown.reset(joined.participantId, joined.peers);
    const agreement = new KeyAgreement({
      roomId,
      selfId: joined.peerId,
      slot: joined.slot,
      authKey: deriveRoomAuthKey(this.roomSecret, roomId),
      sink: this.e2ee,
      transport: {
        commit: (round, commitment, mac) => this.send('keyCommit', { round, commitment: bytesToHex(commitment), mac: bytesToHex(mac) }),
        reveal: (round, publicKey, nonce) => this.send('keyReveal', { round, publicKey: bytesToHex(publicKey), nonce: bytesToHex(nonce) }),
        deliver: (to, kid, box) => this.send('sendKey', { to, kid, box: bytesToHex(box) }),
      },
      onEvent: (e) => this.onEvent(e),
      isParticipant: (peerId) => this.shown.has(peerId),
      ...(__CONFIDE_TEST_HOOKS__ && this.keyLog ? { onKeyMaterial: (owner: string, kid: bigint, key: Uint8Array) => this.keyLog?.push({ owner, kid: Number(kid), key: bytesToHex(key) }) } : {}),
    });
    this.agreement = agreement;
    if (__CONFIDE_TEST_HOOKS__) this.keyLog?.push({ owner: 'identity', kid: -1, key: bytesToHex(agreement.identity.secretKey) });
    const started = agreement.start(joined.keyRound);
    // What came before the agreement existed, in order, before anything newer can.
    for (const run of this.early.splice(0)) run();
    await started;
    this.refresh();
  }

  /** Keys for encrypted chat, derived from the same per-sender keys (see shared/crypto/chat-crypto.ts). */
  chatKeys(): ChatKeys {
    return {
      sendKey: () => this.agreement?.currentSendKey(),
      receiveKey: (peerId, kid) => this.agreement?.receiveKey(peerId, kid),
    };
  }

  /**
   * Before a full rejoin: this membership's agreement ends (its keys are
   * erased); the next start() begins a new one with a new identity.
   */
  reset(): void {
    this.agreement?.close();
    this.agreement = undefined;
    this.early.length = 0;
    this.current = { safetyCode: undefined, verifiedPeers: [], warnings: [], localKid: undefined };
    for (const l of this.listeners) l();
  }

  /**
   * Our connection came back within the grace period (same membership): a
   * commitment or reveal sent while it was down may be lost, and the round
   * would wait for it for ever. Sends them again (the server takes the same
   * one twice without relaying it again).
   */
  resumed(): void {
    this.agreement?.resend();
  }

  close(): void {
    this.agreement?.close();
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private whenReady(run: (k: KeyAgreement) => void): void {
    if (this.agreement) run(this.agreement);
    // Only the moments between our join answer and start(): bounded all the same.
    else if (this.early.length < MAX_EARLY) this.early.push(() => this.agreement && run(this.agreement));
  }

  /** A peer that lost its tile to another connection of the same person (or posed as us): no keys, and a warning. */
  private displace(k: KeyAgreement, peerId: string | undefined): void {
    if (peerId === undefined) return;
    k.handlePeerLeft(peerId);
    this.onEvent({ type: 'warning', peerId, reason: 'unknown-member' });
  }

  private send<N extends 'keyCommit' | 'keyReveal' | 'sendKey'>(name: N, payload: RequestOf<N>): void {
    this.signalling.request(name, payload).catch((err: unknown) => console.warn(`${name} failed`, err));
  }

  private onEvent(e: KeyAgreementEvent): void {
    if (e.type === 'peerAcked') {
      this.onPeerReady?.(e.peerId);
      return;
    }
    if (e.type === 'roundComplete') return; // 'changed' follows
    if (e.type === 'warning') {
      const known = this.current.warnings.some((w) => w.peerId === e.peerId && w.reason === e.reason);
      if (!known) this.current = { ...this.current, warnings: [...this.current.warnings, { peerId: e.peerId, reason: e.reason }] };
    }
    this.refresh();
  }

  private refresh(): void {
    const a = this.agreement;
    this.current = {
      ...this.current,
      safetyCode: a?.safetyCode,
      verifiedPeers: a?.verifiedPeers ?? [],
      localKid: a?.localKid,
    };
    for (const l of this.listeners) l();
  }
}
