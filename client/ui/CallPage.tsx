import { useRef, useState, useSyncExternalStore, type FormEvent } from 'react';
import { CallSession, type CallSnapshot } from '../call/call-session.ts';
import { exposeTestHooks, inboundStats, keyHookMode } from '../call/test-hooks.ts';
import { E2eeManager } from '../e2ee/e2ee-manager.ts';
import { KeyAgreementClient, type KeyAgreementSnapshot } from '../e2ee/key-agreement-client.ts';
import { parseRoomSecretFragment } from '../../shared/crypto/room-secret.ts';
import { E2eeBanner, E2eeDebugPanel, useE2eeStats } from './E2eePanel.tsx';
import { SecurityPanel } from './SecurityPanel.tsx';
import { VideoTile } from './VideoTile.tsx';
import { LanguageSwitch, useI18n, type StringKey } from './i18n.tsx';

const idle: CallSnapshot = { state: 'idle', error: undefined, peerId: undefined, participants: [] };
const noop = () => () => {};
const noKa = () => undefined;

export function CallPage({ roomId }: { roomId: string }) {
  const { t } = useI18n();
  const [roomSecret] = useState(() => parseRoomSecretFragment(window.location.hash));
  const [name, setName] = useState(() => new URLSearchParams(window.location.search).get('name') ?? '');
  const [session, setSession] = useState<CallSession>();
  const [e2ee, setE2ee] = useState<E2eeManager>();
  const [ka, setKa] = useState<KeyAgreementClient>();
  const [local, setLocal] = useState<MediaStream>();
  const [mediaError, setMediaError] = useState<string>();
  const snap = useSyncExternalStore(session?.subscribe ?? noop, session?.snapshot ?? (() => idle));
  const kaSnap = useSyncExternalStore<KeyAgreementSnapshot | undefined>(ka?.subscribe ?? noop, ka?.snapshot ?? noKa);
  const e2eeStats = useE2eeStats(e2ee);
  const joining = useRef(false);

  if (!roomSecret) {
    return (
      <main className="page narrow">
        <LanguageSwitch />
        <h1>{t('joinTitle')}</h1>
        <p className="banner danger" role="alert" data-testid="link-incomplete">
          {t('linkIncomplete')}
        </p>
      </main>
    );
  }

  const join = async (e: FormEvent) => {
    e.preventDefault();
    if (joining.current || !name.trim()) return;
    joining.current = true;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    } catch (err) {
      setMediaError(err instanceof Error ? err.message : String(err));
      joining.current = false;
      return;
    }
    const manager = new E2eeManager();
    const s = new CallSession(manager);
    const mode = keyHookMode();
    const agreement =
      mode === 'manual'
        ? undefined
        : new KeyAgreementClient(s.signalling, manager, roomSecret, (peerId) => s.requestKeyFrames(peerId), {
            logKeys: mode === 'observe',
          });
    exposeTestHooks({
      session: s,
      inboundStats: () => inboundStats(s),
      e2eeStats: () => manager.stats(),
      keyAgreement: () => agreement?.snapshot(),
    });
    if (mode === 'manual') exposeTestHooks({ keys: manager });
    if (mode === 'observe') exposeTestHooks({ keyLog: () => agreement?.keyLog });
    setE2ee(manager);
    setKa(agreement);
    setLocal(stream);
    setSession(s);
    await s
      .join({ roomId, displayName: name.trim(), stream, ...(agreement ? { onJoined: (j) => agreement.start(j, roomId) } : {}) })
      .catch(() => undefined);
  };

  const leave = async () => {
    await session?.leave();
    ka?.close();
    e2ee?.close();
    local?.getTracks().forEach((tr) => tr.stop());
    setLocal(undefined);
  };

  if (!session) {
    return (
      <main className="page narrow">
        <LanguageSwitch />
        <h1>{t('joinTitle')}</h1>
        <form onSubmit={join} className="stack">
          <label htmlFor="name">{t('yourName')}</label>
          <input id="name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" />
          <button type="submit" disabled={!name.trim()}>
            {t('joinCall')}
          </button>
          {mediaError ? <p role="alert">{t('mediaUnavailable', { error: mediaError })}</p> : null}
        </form>
      </main>
    );
  }

  const names = Object.fromEntries(snap.participants.map((p) => [p.peerId, p.displayName]));
  return (
    <main className="page call" data-state={snap.state}>
      <header className="call-header">
        <h1>
          {t('consultation')} {roomId}
        </h1>
        <span role="status">{statusText(snap, t)}</span>
        <LanguageSwitch />
      </header>
      <E2eeBanner stats={e2eeStats} />
      <SecurityPanel ka={kaSnap} names={names} />
      <section className="tiles" aria-label={t('participants')}>
        <VideoTile label={t('you', { name })} video={local?.getVideoTracks()[0]} muted testId="local-tile" />
        {snap.participants.map((p) => (
          <VideoTile
            key={p.peerId}
            label={p.displayName}
            video={p.tracks.find((x) => x.kind === 'video')?.track}
            audio={p.tracks.find((x) => x.kind === 'audio')?.track}
            testId={`remote-tile-${p.peerId}`}
          />
        ))}
      </section>
      <footer className="controls">
        {snap.state === 'left' ? (
          <p>{t('youLeft')}</p>
        ) : (
          <button type="button" onClick={leave} className="danger">
            {t('leave')}
          </button>
        )}
      </footer>
      <E2eeDebugPanel stats={e2eeStats} names={names} />
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
    default:
      return '';
  }
}
