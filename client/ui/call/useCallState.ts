import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type { ConsultationCall } from '../../call/consultation-call.ts';
import type { CallSnapshot } from '../../call/call-session.ts';
import type { ChatSession, ChatSnapshot } from '../../chat/chat-session.ts';
import type { KeyAgreementSnapshot } from '../../e2ee/key-agreement-client.ts';
import type { E2eeStats } from '../../e2ee/worker-messages.ts';
import type { WaitingPatient } from '../../../shared/protocol/signalling.ts';
import { useE2eeStats } from './E2eePanel.tsx';
import { useBadgeStatus, type BadgeStatus } from './E2eeBadge.tsx';
import { useRemoteActivity } from './stage/use-remote-activity.ts';
import type { PeerActivity } from './stage/remote-activity.ts';
import { pickScreen } from './control-bar/screen-share.ts';
import { callMemory } from '../../call/call-memory.ts';

/** Everything the call screen shows, read from the call's observables (and polled stats). */
export interface CallState {
  snap: CallSnapshot;
  ka: KeyAgreementSnapshot | undefined;
  stats: E2eeStats | undefined;
  badge: BadgeStatus | undefined;
  chat: ChatSession | undefined;
  chatSnap: ChatSnapshot | undefined;
  waiting: WaitingPatient[];
  /** Remote peerId → display name. */
  names: Record<string, string>;
  /** Remote peerId → mic off / camera off / speaking. */
  activity: Record<string, PeerActivity>;
  /** The call is over (we left, it was ended, or another tab took our place). */
  over: boolean;
  /** Signalling and media are up (not reconnecting or lost): only then does the E2EE badge speak. */
  connected: boolean;
}

/** What the controls can do; each is safe to call at any time. */
export interface CallActions {
  toggleMic(): void;
  toggleCamera(): void;
  /** Opens the browser's screen picker, or stops sharing. Cancelling the picker is not an error. */
  toggleShare(): Promise<void>;
  leave(): Promise<void>;
  /** Doctor: ends the consultation for everyone (the caller has asked for confirmation). */
  endForAll(): Promise<void>;
}

const noop = () => () => {};
const none = () => undefined;

/**
 * The call's lifecycle and every store the screen reads: joins on mount
 * (once, even under StrictMode), stops the camera and closes the call when
 * it is over (remembering whether the tab may rejoin), tells the page when a
 * patient must be admitted again, polls the E2EE and receiver stats.
 */
export interface CallLifecycle {
  /** The first join failed (the page decides what to show instead). */
  onJoinFailed?: ((err: unknown) => void) | undefined;
  /** A patient whose rejoin credential was refused must be admitted again. */
  onReadmission?: (() => void) | undefined;
}

export function useCallState(
  call: ConsultationCall,
  stream: MediaStream,
  name: string,
  { onJoinFailed, onReadmission }: CallLifecycle = {},
): { state: CallState; actions: CallActions } {
  const snap = useSyncExternalStore(call.session.subscribe, call.session.snapshot);
  const ka = useSyncExternalStore<KeyAgreementSnapshot | undefined>(call.keys?.subscribe ?? noop, call.keys?.snapshot ?? none);
  const chat = useSyncExternalStore(call.chat.subscribe, call.chat.get);
  const chatSnap = useSyncExternalStore<ChatSnapshot | undefined>(chat?.subscribe ?? noop, chat?.snapshot ?? none);
  const waiting = useSyncExternalStore(call.waiting.subscribe, call.waiting.get);
  const stats = useE2eeStats(call.e2ee);
  const activity = useRemoteActivity(call.session, snap.participants);
  const names = useMemo(() => Object.fromEntries(snap.participants.map((p) => [p.peerId, p.displayName])), [snap.participants]);
  const badge = useBadgeStatus(stats, ka, names);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return; // StrictMode runs effects twice in development
    started.current = true;
    call.join(name, stream).catch((err: unknown) => onJoinFailed?.(err));
  }, [call, name, stream, onJoinFailed]);

  const over = snap.state === 'left' || snap.state === 'ended' || snap.state === 'replaced';
  useEffect(() => {
    if (!over) return;
    stream.getTracks().forEach((tr) => tr.stop());
    // The transcript goes with the call: kept only for a Rejoin after leaving.
    call.close({ forget: snap.state !== 'left' });
    // Someone who left may change their mind (Rejoin); an end or a replacement is final here.
    if (snap.state === 'left') callMemory.update(call.roomId, { inCall: false });
    else callMemory.forget(call.roomId);
  }, [over, snap.state, call, stream]);

  const readmit = useSyncExternalStore(call.needsReadmission.subscribe, call.needsReadmission.get);
  useEffect(() => {
    if (readmit) onReadmission?.();
  }, [readmit, onReadmission]);
  const connected = snap.connection.phase === 'connected' || snap.connection.phase === 'connecting';

  const s = call.session;
  const toggleShare = useCallback(async () => {
    if (s.snapshot().sending.screen) return s.stopScreenShare();
    const track = await pickScreen();
    // A share that could not start leaves the button off; the call goes on.
    if (track) await s.startScreenShare(track).catch((err: unknown) => console.warn('screen share failed', err));
  }, [s]);
  const actions: CallActions = useMemo(
    () => ({
      toggleMic: () => s.setSending('mic', !s.snapshot().sending.mic),
      toggleCamera: () => s.setSending('camera', !s.snapshot().sending.camera),
      toggleShare,
      leave: () => s.leave(),
      // The server's "ended" notice can close the socket before the request's
      // answer arrives; the snapshot says 'ended' either way, and a real
      // failure leaves the call as it was (the doctor can try again).
      endForAll: () => s.endConsultation().catch(() => undefined),
    }),
    [s, toggleShare],
  );

  return { state: { snap, ka, stats, badge, chat, chatSnap, waiting, names, activity, over, connected }, actions };
}
