// The one definition of Confide's signalling protocol, used by both the
// server (to validate every request) and the client (to type and validate
// every response and notification). Each request is a socket.io event with
// an acknowledgement; each ack carries an Ack<T> envelope.
import { z } from 'zod';
import {
  DtlsParameters,
  IceCandidate,
  IceParameters,
  Id,
  RtpCapabilities,
  RtpParameters,
} from './mediasoup-schemas.ts';
import { MAX_SLOTS } from '../crypto/key-schedule.ts';
import { chatNotifications, chatRequests } from './chat.ts';
import { KEY_BOX_MAX_BYTES } from '../crypto/key-exchange.ts';
import { NameField } from './names.ts';
import { MAX_ROUND } from '../crypto/key-commitment.ts';
import { Redirect } from './cluster.ts';

export { Id };

export const RoomId = Id;
/** Most decrypt failures one `reportDecryptFailures` may carry (a client clamps larger counts). */
export const MAX_DECRYPT_FAILURES_PER_REPORT = 10_000;
/** Longest name shown in a call (UTF-16 code units). */
export const MAX_DISPLAY_NAME = 64;
/** A person's name in a call: normalised by the one name normaliser (names.ts), 1–64 code units. */
export const DisplayName = NameField(MAX_DISPLAY_NAME);
export const MediaKind = z.enum(['audio', 'video']);
export const MediaSource = z.enum(['mic', 'camera', 'screen']);
export type MediaSource = z.infer<typeof MediaSource>;

export const Slot = z.number().int().min(0).max(MAX_SLOTS - 1);
/** Lower-case hex of exactly `bytes` bytes. */
const hexBytes = (bytes: number) => z.string().length(bytes * 2).regex(/^[0-9a-f]*$/, 'lower-case hex');
export const PublicKeyHex = hexBytes(32);
export const MacHex = hexBytes(32);
export const DigestHex = hexBytes(32);
export const NonceHex = hexBytes(32);
export const KeyBoxHex = z
  .string()
  .min(2)
  .max(KEY_BOX_MAX_BYTES * 2)
  .regex(/^([0-9a-f]{2})+$/, 'lower-case hex');

/** A key round's number: increases by one with every change of membership (docs/protocol.md, Key rounds). */
export const RoundNumber = z.number().int().min(1).max(MAX_ROUND);
/**
 * A key round as the server starts it: its number and who is in it. Sent to
 * the others as `keyRound` when someone joins or leaves; the joiner finds it
 * in its join answer.
 */
export const KeyRoundInfo = z.object({
  round: RoundNumber,
  members: z.array(z.object({ peerId: Id, slot: Slot })).min(1).max(MAX_SLOTS),
});
export type KeyRoundInfo = z.infer<typeof KeyRoundInfo>;
/** A commitment to (public key, nonce) and its MAC under the room auth key (opaque to the server). */
export const KeyCommit = z.object({ round: RoundNumber, commitment: DigestHex, mac: MacHex });
/** The opening of a commitment: X25519 public key and the round's nonce. */
export const KeyReveal = z.object({ round: RoundNumber, publicKey: PublicKeyHex, nonce: NonceHex });

export const Role = z.enum(['doctor', 'patient']);
export type Role = z.infer<typeof Role>;

/**
 * A participant in the room. `peerId` names one connection's membership (a
 * full rejoin gets a new one, with new keys); `participantId` names the person
 * across rejoins (the same patient admission, the same doctor), so the UI can
 * say "Zoé reconnected" instead of showing a leave and a join.
 */
export const PeerInfo = z.object({
  peerId: Id,
  participantId: Id,
  displayName: DisplayName,
  role: Role,
  slot: Slot,
  /** Its signalling connection dropped; the server holds its place for the grace period. */
  reconnecting: z.boolean().optional(),
});
export type PeerInfo = z.infer<typeof PeerInfo>;

export const ProducerInfo = z.object({ producerId: Id, peerId: Id, kind: MediaKind, source: MediaSource });
export type ProducerInfo = z.infer<typeof ProducerInfo>;

/**
 * A TURN relay the browser may use for this transport (RTCIceServer):
 * turn:/turns: URLs and a short-lived credential (coturn's REST-API scheme),
 * given only to a joined participant.
 */
export const IceServer = z.object({
  urls: z.array(z.string().max(300).regex(/^turns?:/)).min(1).max(4),
  username: z.string().max(128),
  credential: z.string().max(128),
});
export type IceServer = z.infer<typeof IceServer>;

const TransportOptions = z.object({
  id: Id,
  iceParameters: IceParameters,
  iceCandidates: z.array(IceCandidate).max(16),
  dtlsParameters: DtlsParameters,
  /** TURN relays, when the server has one (docs/protocol.md, TURN). */
  iceServers: z.array(IceServer).max(2).optional(),
});

const Empty = z.object({}).strict();

/** A patient in the waiting room, as the doctor sees it. */
/**
 * `sameLink`: someone else holding the same patient link is already in the
 * call ('in-call'), waiting ('waiting'), or was admitted earlier and may
 * come back with its rejoin credential ('earlier'): this may be the
 * patient's second device, or someone else with the link. The doctor
 * chooses: replace, admit both, or decline.
 */
export const WaitingPatient = z.object({
  requestId: Id,
  displayName: DisplayName,
  sameLink: z.enum(['waiting', 'in-call', 'earlier']).optional(),
});
export type WaitingPatient = z.infer<typeof WaitingPatient>;
/**
 * Patients waiting (not yet admitted) in one consultation's waiting room, at
 * most: the server refuses more, and the doctor's join answer lists at most
 * this many. One bound, used by both ends (issue 12, item 5).
 */
export const MAX_WAITING = 8;
/** Patient link token (base64url of 32 random bytes). */
export const PatientToken = z.string().min(16).max(128).regex(/^[A-Za-z0-9_-]+$/);
/** A rejoin credential (base64url of 32 random bytes), handed to an admitted patient's connection. */
export const RejoinToken = z.string().length(43).regex(/^[A-Za-z0-9_-]+$/);
/** Why a participant left the room (see docs/protocol.md, Reconnection). */
export const LeaveReason = z.enum(['left', 'timeout', 'replaced', 'removed']);
export type LeaveReason = z.infer<typeof LeaveReason>;

/** Client → server requests: payload schema and response schema. */
export const requests = {
  /** Patient: present the link's token and wait to be admitted by the doctor. */
  enterWaitingRoom: {
    req: z.object({ consultationId: RoomId, token: PatientToken, displayName: DisplayName }).strict(),
    res: z.object({ patientName: DisplayName }),
  },
  /** Doctor (joined): let a waiting patient in, or not. */
  /**
   * `as`: 'replace' lets this device take the place of the patient already
   * in the call (or waiting) with the same link; 'add' admits it as one
   * more participant. Default: 'replace' when the waiting entry is a
   * second device, else 'add'.
   */
  admit: {
    req: z.object({ requestId: Id, as: z.enum(['replace', 'add']).optional() }).strict(),
    res: Empty,
  },
  decline: {
    req: z.object({ requestId: Id }).strict(),
    res: Empty,
  },
  /** Doctor (joined): end the consultation for everyone; its links stop working. */
  endConsultation: {
    req: Empty,
    res: Empty,
  },
  /**
   * Doctor (signed in) or admitted patient: enter the call. A patient coming
   * back (reload, server restart, grace period over) presents the rejoin
   * token its earlier connection received instead of being admitted again.
   */
  join: {
    req: z.object({ roomId: RoomId, displayName: DisplayName, rejoinToken: RejoinToken.optional() }).strict(),
    res: z.object({
      peerId: Id,
      participantId: Id,
      role: Role,
      slot: Slot,
      /** Patients: keep it for the tab's life (sessionStorage) to come back without re-admission. */
      rejoinToken: RejoinToken.optional(),
      waiting: z.array(WaitingPatient).max(MAX_WAITING),
      routerRtpCapabilities: RtpCapabilities,
      peers: z.array(PeerInfo).max(64),
      producers: z.array(ProducerInfo).max(256),
      /** The key round our join started (we are one of its members). */
      keyRound: KeyRoundInfo,
      /** When the consultation's links stop working (ms since the epoch): the doctor's browser forgets the room secret then. */
      linksExpireAt: z.number().int().nonnegative().optional(),
    }),
  },
  createTransport: {
    req: z.object({ direction: z.enum(['send', 'recv']) }).strict(),
    res: TransportOptions,
  },
  connectTransport: {
    req: z.object({ transportId: Id, dtlsParameters: DtlsParameters }).strict(),
    res: Empty,
  },
  produce: {
    req: z
      .object({ transportId: Id, kind: MediaKind, rtpParameters: RtpParameters, source: MediaSource })
      .strict(),
    res: z.object({ producerId: Id }),
  },
  closeProducer: {
    req: z.object({ producerId: Id }).strict(),
    res: Empty,
  },
  consume: {
    req: z.object({ transportId: Id, producerId: Id, rtpCapabilities: RtpCapabilities }).strict(),
    res: z.object({
      consumerId: Id,
      producerId: Id,
      peerId: Id,
      kind: MediaKind,
      source: MediaSource,
      rtpParameters: RtpParameters,
      /** The sender has it paused (muted, camera off). */
      producerPaused: z.boolean(),
    }),
  },
  resumeConsumer: {
    req: z.object({ consumerId: Id }).strict(),
    res: Empty,
  },
  requestKeyFrame: {
    req: z.object({ consumerId: Id }).strict(),
    res: Empty,
  },
  /** Our commitment in the current key round, once per round: relayed to the others as `keyCommitted`. */
  keyCommit: {
    req: KeyCommit.strict(),
    res: Empty,
  },
  /**
   * Our reveal in the current key round, once per round and only after every
   * member committed: relayed to the others as `keyRevealed`.
   */
  keyReveal: {
    req: KeyReveal.strict(),
    res: Empty,
  },
  /** An opaque key box for one participant: relayed as `keyDelivered`. */
  sendKey: {
    req: z.object({ to: Id, kid: z.number().int().min(0).max(255), box: KeyBoxHex }).strict(),
    res: Empty,
  },
  leave: {
    req: Empty,
    res: Empty,
  },
  /**
   * After socket.io recovered this connection (same session, missed
   * notifications delivered): is our place in the room still held?
   * `joined: false` means the grace period ran out: rejoin in full.
   */
  resume: {
    req: Empty,
    res: z.object({ joined: z.boolean(), peerId: Id.optional() }),
  },
  /** New ICE parameters for one of our transports (mediasoup restartIce); the client restarts ICE with them. */
  restartIce: {
    req: z.object({ transportId: Id }).strict(),
    /** With fresh TURN credentials (the earlier ones may have expired). */
    res: z.object({ iceParameters: IceParameters, iceServers: z.array(IceServer).max(2).optional() }),
  },
  /**
   * After a `mediaReset` (the SFU worker hosting the room died and the room
   * moved): forget our old transports; answers what a join answers for media.
   */
  rejoinMedia: {
    req: Empty,
    res: z.object({ routerRtpCapabilities: RtpCapabilities, producers: z.array(ProducerInfo).max(256) }),
  },
  /**
   * The pre-appointment connection check (docs/protocol.md): with a valid
   * patient link, a room of its own on the SFU — no waiting room, no access
   * to the consultation — where this connection's producers come back to it
   * (`consume` of its own producer), for at most CHECK_MS. Between network
   * modes the page drops its transports with `rejoinMedia`; `leave` ends it.
   */
  startCheck: {
    req: z.object({ consultationId: RoomId, token: z.string().min(16).max(128) }).strict(),
    /** `relay`: whether this server hands out a TURN relay (else the relay path is not tested). */
    res: z.object({ peerId: Id, routerRtpCapabilities: RtpCapabilities, checkMs: z.number().int().positive(), relay: z.boolean() }),
  },
  /**
   * Media frames this page could not authenticate or decrypt since its last
   * report (a count only: no peer, no KID, no content); the server adds it to
   * its metrics. Sent at most every few seconds, only when non-zero.
   */
  reportDecryptFailures: {
    req: z.object({ failures: z.number().int().min(1).max(MAX_DECRYPT_FAILURES_PER_REPORT) }).strict(),
    res: Empty,
  },
  /** Mute or camera off (paused: no RTP at all), told to the others as `producerPaused`. */
  pauseProducer: {
    req: z.object({ producerId: Id, paused: z.boolean() }).strict(),
    res: Empty,
  },
  ...chatRequests,
} as const;

export type RequestName = keyof typeof requests;
export type RequestOf<N extends RequestName> = z.infer<(typeof requests)[N]['req']>;
export type ResponseOf<N extends RequestName> = z.infer<(typeof requests)[N]['res']>;
export const requestNames = Object.keys(requests) as RequestName[];

/** Server → client notifications. */
export const notifications = {
  patientWaiting: WaitingPatient,
  waitingLeft: z.object({ requestId: Id }),
  admitted: Empty,
  declined: Empty,
  consultationEnded: Empty,
  peerJoined: PeerInfo,
  peerLeft: z.object({ peerId: Id, reason: LeaveReason.optional() }),
  /** A participant's signalling connection dropped (`reconnecting`) or came back within the grace period. */
  peerConnection: z.object({ peerId: Id, state: z.enum(['reconnecting', 'connected']) }),
  producerPaused: z.object({ producerId: Id, paused: z.boolean() }),
  /** The room's media moved to a new SFU worker: rebuild transports (`rejoinMedia`); signalling and keys stay. */
  mediaReset: Empty,
  /** This connection's place was taken by the same participant on another connection (another tab or device). */
  replaced: Empty,
  /** Sent on quiet connections so socket.io can always recover them (see docs/protocol.md, Reconnection). */
  heartbeat: Empty,
  newProducer: ProducerInfo,
  producerClosed: z.object({ producerId: Id }),
  consumerClosed: z.object({ consumerId: Id }),
  /** A new key round (someone joined or left). */
  keyRound: KeyRoundInfo,
  keyCommitted: KeyCommit.extend({ peerId: Id }),
  keyRevealed: KeyReveal.extend({ peerId: Id }),
  keyDelivered: z.object({ from: Id, kid: z.number().int().min(0).max(255), box: KeyBoxHex }),
  ...chatNotifications,
} as const;

export type NotificationName = keyof typeof notifications;
export type NotificationOf<N extends NotificationName> = z.infer<(typeof notifications)[N]>;

export const ErrorCode = z.enum([
  'bad-request', // payload failed validation
  'unknown-request', // no such event
  'not-joined', // request needs a joined peer
  'already-joined',
  'not-found', // unknown transport / producer / consumer id
  'forbidden',
  'unauthenticated', // needs a signed-in doctor or an admitted patient
  'ended', // the consultation has ended: its links no longer work
  'expired', // the link's validity has passed
  'rate-limited',
  'elsewhere', // several nodes: the consultation's room is on another node; see `redirect`
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: ErrorCode; message: string; redirect?: Redirect } };

export const AckEnvelope = z.union([
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: z.object({ code: ErrorCode, message: z.string().max(1000), redirect: Redirect.optional() }) }),
]);

/** Largest socket.io message the server accepts (bytes). */
export const MAX_MESSAGE_BYTES = 256 * 1024;
