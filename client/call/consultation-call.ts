/**
 * One participant's whole call, the composition root: the signalling socket,
 * the frame Worker (E2eeManager), the SFU session (CallSession), key
 * agreement, chat, and the connection owner (CallConnection) that keeps them
 * alive through faults. A patient's admission is bound to the socket that
 * waited; a rejoin presents the credential that admission earned.
 *
 * Recovery, as the connection owner asks for it:
 * - resume: our place is held (same peer id, same keys): restart ICE;
 * - rejoin: a new membership: the agreement and the Worker start afresh
 *   (new identity, new keys: others ratchet for our join, and draw a new
 *   epoch for our old identity's leave), media is rebuilt, chat carries on;
 * - media repair: ICE restart, or new transports when the SFU moved the room.
 * @module
 */
import { CallSession } from './call-session.ts';
import { RequestError, SignallingClient } from './signalling-client.ts';
import { CallConnection } from './connection/call-connection.ts';
import { WaitingRoomLink } from './connection/waiting-room-link.ts';
import { exposeTestHooks, inboundStats, keyHookMode } from './test-hooks.ts';
import { benchCryptoInWorker, benchE2eeMode } from './bench-hooks.ts';
import { E2eeManager } from '../e2ee/e2ee-manager.ts';
import { KeyAgreementClient } from '../e2ee/key-agreement-client.ts';
import type { ResponseOf, WaitingPatient } from '../../shared/protocol/signalling.ts';
import { ChatSession, type ChatLink } from '../chat/chat-session.ts';
import { BrowserTranscriptStore } from '../chat/chat-transcript-store.ts';
import { callMemory } from './call-memory.ts';
import { rememberedSecrets } from './invite-links.ts';
import { DecryptFailureReporter } from '../e2ee/decrypt-failure-report.ts';

export type Admission = 'admitted' | 'declined' | 'ended';

export class ConsultationCall {
  readonly signalling = new SignallingClient();
  // Bench build only: the pass-through baseline (bench-hooks.ts). Elsewhere the
  // condition is the constant false and the minifier drops the option's literal.
  readonly e2ee = new E2eeManager(__CONFIDE_BENCH__ && benchE2eeMode() === 'pass' ? { benchPassThrough: true } : {});
  readonly session: CallSession;
  readonly keys: KeyAgreementClient | undefined;
  readonly connection: CallConnection;
  /** Doctor: patients in the waiting room (observable). */
  readonly waiting = new Observable<WaitingPatient[]>([]);
  /** Encrypted chat, once joined (needs our peer id and the agreed keys). */
  readonly chat = new Observable<ChatSession | undefined>(undefined);
  /** Patient: the rejoin credential was refused; the page must go through the waiting room again. */
  readonly needsReadmission = new Observable<boolean>(false);
  private displayName = '';
  private closed = false;
  /** Every peer seen in this call, even gone: chat history names senders by person, across their rejoins. */
  private readonly directory = new Map<string, { participantId: string; name: string }>();
  /** Opened at once: it holds the tab's lock that keeps its stored files from clean-up by other tabs. */
  private readonly transcript: BrowserTranscriptStore;
  private readonly onOnline = () => this.connection.networkOnline();
  private readonly e2eeOff: boolean;
  /** Counts of frames that failed to decrypt, for the server's metrics (never which, never content). */
  private readonly failureReports = new DecryptFailureReporter(
    () => this.e2ee.stats(),
    (failures) => this.signalling.request('reportDecryptFailures', { failures }),
  );

  constructor(
    readonly roomId: string,
    roomSecret: Uint8Array,
    private readonly role: 'doctor' | 'patient',
  ) {
    // Bench build only: the E2EE-off baseline attaches no frame transform (bench-hooks.ts).
    this.e2eeOff = __CONFIDE_BENCH__ && benchE2eeMode() === 'off';
    this.session = new CallSession(this.e2eeOff ? undefined : this.e2ee, this.signalling);
    this.transcript = new BrowserTranscriptStore(roomId);
    // Test build only (vite --mode test): in production this is the constant 'off'
    // and every hook below is compiled out (see vite.config.ts).
    const mode = __CONFIDE_TEST_HOOKS__ ? keyHookMode() : 'off';
    this.keys =
      mode === 'manual'
        ? undefined
        : new KeyAgreementClient(this.signalling, this.e2ee, roomSecret, { logKeys: mode === 'observe' });
    // Frames from someone were dropped (no key yet) and decrypt again: ask the SFU for a keyframe.
    this.e2ee.onRecovered = (peerId) => this.session.requestKeyFrames(peerId);
    this.connection = new CallConnection(
      this.signalling,
      {
        resume: () => this.resume(),
        rejoin: () => this.rejoin(),
        repairMedia: (kind) => (kind === 'ice' ? this.session.resumeMedia(true) : this.session.rebuildMedia()),
        readmit: () => this.needsReadmission.set(true),
      },
      { role: () => this.role },
    );
    this.connection.subscribe(() => this.session.setConnection(this.connection.snapshot()));
    this.session.onMediaState = (s) => this.connection.mediaState(s);
    this.session.onMediaReset = () => this.connection.mediaReset();
    window.addEventListener('online', this.onOnline);
    const keys = this.keys;
    if (__CONFIDE_TEST_HOOKS__) {
      exposeTestHooks({
        session: this.session,
        connection: this.connection,
        inboundStats: () => inboundStats(this.session),
        e2eeStats: () => this.e2ee.stats(),
        keyAgreement: () => keys?.snapshot(),
      });
    }
    if (__CONFIDE_BENCH__) exposeTestHooks({ benchCrypto: benchCryptoInWorker });
    // The consultation is over: its links stop working, and this browser forgets its secret.
    this.signalling.on('consultationEnded', () => rememberedSecrets.forget(roomId));
    this.signalling.on('peerJoined', (p) => this.directory.set(p.peerId, { participantId: p.participantId, name: p.displayName }));
    this.signalling.on('peerLeft', ({ peerId, reason }) => this.chat.get()?.peerGone(peerId, reason === 'left' || reason === 'removed'));
    this.signalling.onConnection((e) => {
      if (e.type === 'disconnect') this.chat.get()?.pause();
    });
    if (this.keys) this.keys.onPeerReady = (peerId) => this.chat.get()?.peerReady(peerId);
    this.signalling.on('patientWaiting', (p) => this.waiting.set([...this.waiting.get().filter((w) => w.requestId !== p.requestId), p]));
    this.signalling.on('waitingLeft', ({ requestId }) => this.waiting.set(this.waiting.get().filter((w) => w.requestId !== requestId)));
    if (__CONFIDE_TEST_HOOKS__ && mode === 'manual') exposeTestHooks({ keys: this.e2ee });
    if (__CONFIDE_TEST_HOOKS__ && mode === 'observe') exposeTestHooks({ keyLog: () => keys?.keyLog });
  }

  /**
   * Patient: present the link's token and wait for the doctor. Resolves when
   * the doctor decides (or the consultation ends); rejects with the server's
   * RequestError ('forbidden', 'ended', 'expired') when the link is refused.
   */
  async waitForAdmission(token: string, displayName: string): Promise<Admission> {
    const enter = () => this.signalling.request('enterWaitingRoom', { consultationId: this.roomId, token, displayName });
    let fail: (err: unknown) => void = () => undefined;
    const decided = new Promise<Admission>((resolve, reject) => {
      fail = reject;
      this.signalling.on('admitted', () => resolve('admitted'));
      this.signalling.on('declined', () => resolve('declined'));
      this.signalling.on('consultationEnded', () => resolve('ended'));
    });
    await enter();
    // Keep our place through a drop: reconnect on the same schedule as in the
    // call and enter again; a session socket.io recovered still holds the entry
    // ('already-joined'), otherwise we wait again (the doctor sees one entry: the
    // server drops the stale one). A refused re-entry is asked again (WaitingRoomLink).
    const link = new WaitingRoomLink(this.signalling, enter, (err) => fail(err));
    const onOnline = () => link.networkOnline();
    window.addEventListener('online', onOnline);
    try {
      return await decided;
    } finally {
      link.close();
      window.removeEventListener('online', onOnline);
    }
  }

  /**
   * Enters the call and sends `stream`. A patient coming back (reload)
   * passes the rejoin credential its tab kept instead of being admitted.
   * Rejects with the server's RequestError.
   */
  async join(displayName: string, stream: MediaStream): Promise<void> {
    this.displayName = displayName;
    await this.joinRoom(stream);
    this.connection.joined();
    this.failureReports.start();
    callMemory.update(this.roomId, { inCall: true });
  }

  /**
   * Doctor: let a waiting patient in (or not). For a second device of the
   * same link, `as` says whether it replaces the first or joins as well.
   */
  async decide(requestId: string, admit: boolean, as?: 'replace' | 'add'): Promise<void> {
    if (admit) await this.signalling.request('admit', { requestId, ...(as ? { as } : {}) });
    else await this.signalling.request('decline', { requestId });
    this.waiting.set(this.waiting.get().filter((w) => w.requestId !== requestId));
  }

  /** `forget`: the call is over for this tab (left, ended): erase the stored transcript too. */
  close(opts: { forget?: boolean } = {}): void {
    if (this.closed) return;
    this.closed = true;
    window.removeEventListener('online', this.onOnline);
    this.connection.close();
    this.failureReports.stop();
    this.chat.get()?.close(opts);
    this.keys?.close();
    this.e2ee.close();
    this.signalling.close();
  }

  private async joinRoom(stream?: MediaStream): Promise<void> {
    const keys = this.keys;
    const rejoinToken = this.role === 'patient' ? callMemory.load(this.roomId).rejoinToken : undefined;
    await this.session.join(
      {
        roomId: this.roomId,
        displayName: this.displayName,
        ...(rejoinToken ? { rejoinToken } : {}),
        onJoined: async (j) => {
          if (j.rejoinToken) callMemory.update(this.roomId, { rejoinToken: j.rejoinToken });
          if (j.linksExpireAt !== undefined) rememberedSecrets.expireAt(this.roomId, j.linksExpireAt);
          this.waiting.set(j.waiting);
          await keys?.start(j, this.roomId);
          this.startChat(j);
        },
      },
      stream,
    );
  }

  /** The chat lives across rejoins: a new membership rebinds it (new peer id, new keys). */
  private startChat(j: ResponseOf<'join'>): void {
    const keys = this.keys;
    if (!keys) return;
    for (const p of j.peers) this.directory.set(p.peerId, { participantId: p.participantId, name: p.displayName });
    const link: ChatLink = {
      signalling: this.signalling,
      keys: keys.chatKeys(),
      selfId: j.peerId,
      participantOf: (peerId) => this.directory.get(peerId)?.participantId,
      nameOf: (peerId) => this.directory.get(peerId)?.name,
    };
    const chat = this.chat.get();
    if (chat) chat.rebind(link);
    else this.chat.set(new ChatSession(link, this.roomId, { transcript: this.transcript }));
  }

  /** socket.io recovered our session: is our place still held? Then restart ICE. */
  private async resume(): Promise<boolean> {
    const { joined } = await this.signalling.request('resume', {});
    if (!joined) return false;
    this.keys?.resumed();
    this.chat.get()?.resume();
    await this.session.resumeMedia();
    return true;
  }

  /** A new membership: fresh keys and Worker, media rebuilt, same tracks. */
  private async rejoin(): Promise<void> {
    // A failed earlier attempt may have joined on this same session: leave it first.
    await this.signalling.request('leave', {}).catch((err: unknown) => {
      if (err instanceof RequestError && err.code === 'disconnected') throw err;
    });
    // Several nodes: start over at home, which knows where the room is now (a staff ticket was single-use).
    await this.signalling.goHome();
    this.keys?.reset();
    this.e2ee.reset();
    this.session.prepareRejoin(this.e2eeOff ? undefined : this.e2ee);
    await this.joinRoom();
  }
}

export { RequestError };

/** A value React can watch with useSyncExternalStore. */
export class Observable<T> {
  private readonly listeners = new Set<() => void>();
  constructor(private value: T) {}
  get = (): T => this.value;
  set(v: T): void {
    this.value = v;
    for (const l of this.listeners) l();
  }
  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
}
