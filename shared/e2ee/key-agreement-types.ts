/**
 * The key agreement's interfaces (shared/e2ee/key-agreement.ts): what it
 * receives from the relay, what it sends through it, what it tells the page,
 * and how it is configured.
 * @module
 */
import type { RoundMember } from '../crypto/key-commitment.ts';
import type { KeySink } from './receive-keys.ts';

export type { KeySink } from './receive-keys.ts';
export type { RoundMember } from '../crypto/key-commitment.ts';

/** A round as the relay announced it: its number (increasing) and its members. */
export interface RoundInfo {
  round: number;
  members: RoundMember[];
}

export interface Commitment {
  peerId: string;
  round: number;
  /** 32 B, see shared/crypto/key-commitment.ts. */
  commitment: Uint8Array;
  /** 32 B HMAC under the room auth key. */
  mac: Uint8Array;
}

export interface Reveal {
  peerId: string;
  round: number;
  /** X25519 public key, 32 B. */
  publicKey: Uint8Array;
  /** The round's nonce, 32 B. */
  nonce: Uint8Array;
}

export interface Delivery {
  from: string;
  kid: number;
  box: Uint8Array;
}

/** How messages reach the other participants (signalling, through the server). */
export interface KeyTransport {
  commit(round: number, commitment: Uint8Array, mac: Uint8Array): void;
  reveal(round: number, publicKey: Uint8Array, nonce: Uint8Array): void;
  deliver(to: string, kid: number, box: Uint8Array): void;
}

export type KeyAgreementEvent =
  | { type: 'warning'; peerId: string; reason: WarningReason }
  | { type: 'changed' }
  /** The round completed on our side: `code` is its safety code. */
  | { type: 'roundComplete'; round: number; code: string }
  | { type: 'localKeySwitched'; kid: bigint }
  /** `peerId` acknowledged our key `kid`: it can decrypt what we send (media, and chat under keys derived from it). */
  | { type: 'peerAcked'; peerId: string; kid: number };

export type WarningReason =
  | 'bad-commitment'
  | 'bad-reveal'
  | 'key-changed'
  | 'slot-conflict'
  | 'bad-key-box'
  | 'wrong-slot'
  | 'rounds-aborted'
  /** A round member the page was never told joined (no tile): it would get keys unseen. */
  | 'unknown-member';

export interface Timers {
  setTimeout(fn: () => void, ms: number): () => void;
}

export interface KeyAgreementOptions {
  roomId: string;
  selfId: string;
  slot: number;
  authKey: Uint8Array;
  sink: KeySink;
  transport: KeyTransport;
  onEvent: (e: KeyAgreementEvent) => void;
  timers?: Timers;
  ackTimeoutMs?: number;
  previousKeyMs?: number;
  /**
   * Is `peerId` a participant this page shows (the join answer's peers and
   * `peerJoined`, minus `peerLeft`)? A round member who is not is refused
   * ('unknown-member'): no key box, left out of the code. Without it every
   * member is taken (tests of the rounds alone).
   */
  isParticipant?: (peerId: string) => boolean;
  /** Digits of the safety code (6). Tests use 3 to measure an attacker's chances in seconds. */
  safetyCodeDigits?: number;
  /** Test-only observer of every base key this participant holds. */
  onKeyMaterial?: (owner: string, kid: bigint, baseKey: Uint8Array) => void;
}
