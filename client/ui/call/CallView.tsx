import { useEffect, useRef, useSyncExternalStore } from 'react';
import type { ConsultationCall } from '../../call/consultation-call.ts';
import type { KeyAgreementSnapshot } from '../../e2ee/key-agreement-client.ts';
import { useI18n, LanguageSwitch, type StringKey } from '../i18n.tsx';
import { VideoTile } from './VideoTile.tsx';
import { E2eeBanner, E2eeDebugPanel, useE2eeStats } from './E2eePanel.tsx';
import { E2eeBadge } from './E2eeBadge.tsx';
import { SecurityPanel } from './SecurityPanel.tsx';
import { NetworkHint } from './NetworkHint.tsx';
import { WaitingList } from './WaitingList.tsx';
import { CallControls } from './CallControls.tsx';
import { ChatPanel } from './ChatPanel.tsx';
import type { CallSnapshot, RemoteParticipant } from '../../call/call-session.ts';
import { callMemory } from '../../call/call-memory.ts';
import { callErrorText } from '../errors.ts';
import { ConnectionBanner, useRecent } from './ConnectionBanner.tsx';
import './connection.css';

const noop = () => () => {};
const none = () => undefined;

interface CallViewProps {
  call: ConsultationCall;
  stream: MediaStream;
  name: string;
  /** The first join failed (the page decides what to show instead). */
  onJoinFailed?: (err: unknown) => void;
  /** A patient whose rejoin credential was refused must be admitted again. */
  onReadmission?: () => void;
}

/** The call itself, for doctor and patient alike. Joins on mount. */
export function CallView({ call, stream, name, onJoinFailed, onReadmission }: CallViewProps) {
  const { t } = useI18n();
  const snap = useSyncExternalStore(call.session.subscribe, call.session.snapshot);
  const ka = useSyncExternalStore<KeyAgreementSnapshot | undefined>(call.keys?.subscribe ?? noop, call.keys?.snapshot ?? none);
  const stats = useE2eeStats(call.e2ee);
  const chat = useSyncExternalStore(call.chat.subscribe, call.chat.get);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return; // StrictMode runs effects twice in development
    started.current = true;
    call.join(name, stream).catch((err: unknown) => onJoinFailed?.(err));
  }, [call, name, stream, onJoinFailed]);

  useEffect(() => {
    if (snap.state === 'left' || snap.state === 'ended' || snap.state === 'replaced') {
      stream.getTracks().forEach((tr) => tr.stop());
      // The transcript goes with the call: kept only for a Rejoin after leaving.
      call.close({ forget: snap.state !== 'left' });
      // Someone who left may change their mind (Rejoin); an end or a replacement is final here.
      if (snap.state === 'left') callMemory.update(call.roomId, { inCall: false });
      else callMemory.forget(call.roomId);
    }
  }, [snap.state, call, stream]);

  const readmit = useSyncExternalStore(call.needsReadmission.subscribe, call.needsReadmission.get);
  useEffect(() => {
    if (readmit) onReadmission?.();
  }, [readmit, onReadmission]);

  const names = Object.fromEntries(snap.participants.map((p) => [p.peerId, p.displayName]));
  const over = snap.state === 'left' || snap.state === 'ended' || snap.state === 'replaced';
  const connected = snap.connection.phase === 'connected' || snap.connection.phase === 'connecting';
  return (
    <main className="page call" data-state={snap.state} data-role={snap.role ?? ''}>
      <header className="call-header">
        <h1>{t('consultation')}</h1>
        <span role="status">{statusText(snap, t)}</span>
        {!over && connected ? <E2eeBadge stats={stats} ka={ka} names={names} /> : null}
        {!over && !connected ? (
          <span className="badge keys" data-testid="e2ee-badge" data-state="reconnecting" role="status">
            {t('e2eeReconnecting')}
          </span>
        ) : null}
        {!over ? <NetworkHint session={call.session} /> : null}
        <LanguageSwitch />
      </header>
      {over ? (
        <div className="banner" data-testid="call-over" data-reason={snap.state}>
          <p>{snap.state === 'ended' ? t('endedText') : snap.state === 'replaced' ? t('replacedText') : t('youLeft')}</p>
          {snap.state === 'left' ? (
            <button
              type="button"
              data-testid="rejoin-after-leave"
              onClick={() => {
                // Back in through the tab's memory: a patient's credential, no second admission.
                callMemory.update(call.roomId, { inCall: true });
                window.location.reload();
              }}
            >
              {t('rejoin')}
            </button>
          ) : null}
        </div>
      ) : (
        <>
          <ConnectionBanner connection={snap.connection} onRejoin={() => call.connection.retryNow()} />
          <E2eeBanner stats={stats} />
          <SecurityPanel ka={ka} names={names} />
          {snap.role === 'doctor' ? <WaitingList call={call} /> : null}
          <section className="tiles" aria-label={t('participants')}>
            <VideoTile label={t('you', { name })} video={snap.sending.camera ? stream.getVideoTracks()[0] : undefined} muted testId="local-tile" />
            {snap.participants.flatMap((p) => {
              const camera = p.tracks.find((x) => x.source === 'camera')?.track;
              const mic = p.tracks.find((x) => x.source === 'mic')?.track;
              const screen = p.tracks.find((x) => x.source === 'screen')?.track;
              const tiles = [
                <RemoteTile key={p.participantId} p={p} camera={camera} mic={mic} />,
              ];
              if (screen) {
                tiles.push(
                  <VideoTile key={`${p.peerId}-screen`} label={t('screenOf', { name: p.displayName })} video={screen} testId={`screen-tile-${p.peerId}`} fit="contain" />,
                );
              }
              return tiles;
            })}
          </section>
          <CallControls call={call} snap={snap} />
          {chat ? <ChatPanel chat={chat} names={names} /> : null}
          <E2eeDebugPanel stats={stats} names={names} />
        </>
      )}
    </main>
  );
}

/** A remote participant's tile, with what is wrong with its media (reconnecting, video paused) over it. */
function RemoteTile({ p, camera, mic }: { p: RemoteParticipant; camera: MediaStreamTrack | undefined; mic: MediaStreamTrack | undefined }) {
  const { t } = useI18n();
  const justBack = useRecent(p.reconnectedAt, 4000);
  const stalled = p.tracks.some((x) => x.source === 'camera' && x.stalled && !x.paused);
  const overlay = p.reconnecting
    ? { kind: 'reconnecting' as const, text: t('peerReconnecting', { name: p.displayName }) }
    : stalled
      ? { kind: 'paused' as const, text: t('videoPaused') }
      : justBack
        ? { kind: 'reconnected' as const, text: t('peerReconnected', { name: p.displayName }) }
        : undefined;
  return <VideoTile label={p.displayName} video={camera} audio={mic} testId={`remote-tile-${p.peerId}`} overlay={overlay} />;
}

function statusText(s: CallSnapshot, t: (k: StringKey, v?: Record<string, string>) => string): string {
  switch (s.state) {
    case 'joining':
      return t('connecting');
    case 'joined':
      if (s.connection.phase === 'reconnecting') return t('connReconnectingSignalling');
      return s.participants.length ? t('inCall') : t('waitingOther');
    case 'failed':
      return s.errorCode ? t('couldNotJoinBecause', { reason: callErrorText(t, s.errorCode) }) : t('couldNotJoin');
    case 'left':
      return t('left');
    case 'ended':
      return t('endedText');
    default:
      return '';
  }
}
