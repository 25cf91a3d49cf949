// One participant's whole call: signalling socket, frame Worker, SFU session
// and key agreement, built together so they share one socket (a patient's
// admission is bound to the socket that waited).
import { CallSession } from './call-session.ts';
import { RequestError, SignallingClient } from './signalling-client.ts';
import { exposeTestHooks, inboundStats, keyHookMode } from './test-hooks.ts';
import { E2eeManager } from '../e2ee/e2ee-manager.ts';
import { KeyAgreementClient } from '../e2ee/key-agreement-client.ts';
import type { WaitingPatient } from '../../shared/protocol/signalling.ts';
import { ChatSession } from '../chat/chat-session.ts';

export type Admission = 'admitted' | 'declined' | 'ended';

export class ConsultationCall {
  readonly signalling = new SignallingClient();
  readonly e2ee = new E2eeManager();
  readonly session: CallSession;
  readonly keys: KeyAgreementClient | undefined;
  /** Doctor: patients in the waiting room (observable). */
  readonly waiting = new Observable<WaitingPatient[]>([]);
  /** Encrypted chat, once joined (needs our peer id and the agreed keys). */
  readonly chat = new Observable<ChatSession | undefined>(undefined);

  constructor(
    readonly roomId: string,
    roomSecret: Uint8Array,
  ) {
    this.session = new CallSession(this.e2ee, this.signalling);
    const mode = keyHookMode();
    this.keys =
      mode === 'manual'
        ? undefined
        : new KeyAgreementClient(this.signalling, this.e2ee, roomSecret, { logKeys: mode === 'observe' });
    // Frames from someone were dropped (no key yet) and decrypt again: ask the SFU for a keyframe.
    this.e2ee.onRecovered = (peerId) => this.session.requestKeyFrames(peerId);
    const keys = this.keys;
    exposeTestHooks({
      session: this.session,
      inboundStats: () => inboundStats(this.session),
      e2eeStats: () => this.e2ee.stats(),
      keyAgreement: () => keys?.snapshot(),
    });
    this.signalling.on('patientWaiting', (p) => this.waiting.set([...this.waiting.get().filter((w) => w.requestId !== p.requestId), p]));
    this.signalling.on('waitingLeft', ({ requestId }) => this.waiting.set(this.waiting.get().filter((w) => w.requestId !== requestId)));
    if (mode === 'manual') exposeTestHooks({ keys: this.e2ee });
    if (mode === 'observe') exposeTestHooks({ keyLog: () => keys?.keyLog });
  }

  /**
   * Patient: present the link's token and wait for the doctor. Resolves when
   * the doctor decides (or the consultation ends); rejects with the server's
   * RequestError ('forbidden', 'ended', 'expired') when the link is refused.
   */
  async waitForAdmission(token: string, displayName: string): Promise<Admission> {
    const decided = new Promise<Admission>((resolve) => {
      this.signalling.on('admitted', () => resolve('admitted'));
      this.signalling.on('declined', () => resolve('declined'));
      this.signalling.on('consultationEnded', () => resolve('ended'));
    });
    await this.signalling.request('enterWaitingRoom', { consultationId: this.roomId, token, displayName });
    return decided;
  }

  async join(displayName: string, stream: MediaStream): Promise<void> {
    const keys = this.keys;
    await this.session.join({
      roomId: this.roomId,
      displayName,
      stream,
      onJoined: async (j) => {
        this.waiting.set(j.waiting);
        await keys?.start(j, this.roomId);
        if (keys) this.chat.set(new ChatSession(this.signalling, keys.chatKeys(), this.roomId, j.peerId));
      },
    });
  }

  /** Doctor: let a waiting patient in (or not). */
  async decide(requestId: string, admit: boolean): Promise<void> {
    await this.signalling.request(admit ? 'admit' : 'decline', { requestId });
    this.waiting.set(this.waiting.get().filter((w) => w.requestId !== requestId));
  }

  close(): void {
    this.chat.get()?.close();
    this.keys?.close();
    this.e2ee.close();
    this.signalling.close();
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
