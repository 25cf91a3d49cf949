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
import type { CallSnapshot } from '../../call/call-session.ts';

const noop = () => () => {};
const none = () => undefined;

/** The call itself, for doctor and patient alike. Joins on mount. */
export function CallView({ call, stream, name }: { call: ConsultationCall; stream: MediaStream; name: string }) {
  const { t } = useI18n();
  const snap = useSyncExternalStore(call.session.subscribe, call.session.snapshot);
  const ka = useSyncExternalStore<KeyAgreementSnapshot | undefined>(call.keys?.subscribe ?? noop, call.keys?.snapshot ?? none);
  const stats = useE2eeStats(call.e2ee);
  const chat = useSyncExternalStore(call.chat.subscribe, call.chat.get);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return; // StrictMode runs effects twice in development
    started.current = true;
    call.join(name, stream).catch(() => undefined);
  }, [call, name, stream]);

  useEffect(() => {
    if (snap.state === 'left' || snap.state === 'ended') {
      stream.getTracks().forEach((tr) => tr.stop());
      call.close();
    }
  }, [snap.state, call, stream]);

  const names = Object.fromEntries(snap.participants.map((p) => [p.peerId, p.displayName]));
  const over = snap.state === 'left' || snap.state === 'ended';
  return (
    <main className="page call" data-state={snap.state} data-role={snap.role ?? ''}>
      <header className="call-header">
        <h1>{t('consultation')}</h1>
        <span role="status">{statusText(snap, t)}</span>
        {!over ? <E2eeBadge stats={stats} ka={ka} names={names} /> : null}
        {!over ? <NetworkHint session={call.session} /> : null}
        <LanguageSwitch />
      </header>
      {over ? (
        <p className="banner" data-testid="call-over" data-reason={snap.state}>
          {snap.state === 'ended' ? t('endedText') : t('youLeft')}
        </p>
      ) : (
        <>
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
                <VideoTile key={p.peerId} label={p.displayName} video={camera} audio={mic} testId={`remote-tile-${p.peerId}`} />,
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

function statusText(s: CallSnapshot, t: (k: StringKey, v?: Record<string, string>) => string): string {
  switch (s.state) {
    case 'joining':
      return t('connecting');
    case 'joined':
      return s.participants.length ? t('inCall') : t('waitingOther');
    case 'failed':
      return t('couldNotJoin', { error: s.error ?? '?' });
    case 'left':
      return t('left');
    case 'ended':
      return t('endedText');
    default:
      return '';
  }
}
