import { useRef, useState, useSyncExternalStore, type FormEvent } from 'react';
import { CallSession, type CallSnapshot } from '../call/call-session.ts';
import { exposeTestHooks, inboundStats, testKeyHooksEnabled } from '../call/test-hooks.ts';
import { E2eeManager } from '../e2ee/e2ee-manager.ts';
import { E2eeBanner, E2eeDebugPanel, useE2eeStats } from './E2eePanel.tsx';
import { VideoTile } from './VideoTile.tsx';

const idle: CallSnapshot = { state: 'idle', error: undefined, peerId: undefined, participants: [] };
const noop = () => () => {};

export function CallPage({ roomId }: { roomId: string }) {
  const [name, setName] = useState(() => new URLSearchParams(window.location.search).get('name') ?? '');
  const [session, setSession] = useState<CallSession>();
  const [e2ee, setE2ee] = useState<E2eeManager>();
  const e2eeStats = useE2eeStats(e2ee);
  const [local, setLocal] = useState<MediaStream>();
  const [mediaError, setMediaError] = useState<string>();
  const snap = useSyncExternalStore(session?.subscribe ?? noop, session?.snapshot ?? (() => idle));
  const joining = useRef(false);

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
    exposeTestHooks({ session: s, inboundStats: () => inboundStats(s), e2eeStats: () => manager.stats() });
    if (testKeyHooksEnabled()) exposeTestHooks({ keys: manager });
    setE2ee(manager);
    setLocal(stream);
    setSession(s);
    await s.join({ roomId, displayName: name.trim(), stream }).catch(() => undefined);
  };

  const leave = async () => {
    await session?.leave();
    e2ee?.close();
    local?.getTracks().forEach((t) => t.stop());
    setLocal(undefined);
  };

  if (!session) {
    return (
      <main className="page narrow">
        <h1>Join consultation</h1>
        <form onSubmit={join} className="stack">
          <label htmlFor="name">Your name</label>
          <input id="name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" />
          <button type="submit" disabled={!name.trim()}>
            Join call
          </button>
          {mediaError ? <p role="alert">Camera or microphone unavailable: {mediaError}</p> : null}
        </form>
      </main>
    );
  }

  return (
    <main className="page call" data-state={snap.state}>
      <header className="call-header">
        <h1>Consultation {roomId}</h1>
        <span role="status">{statusText(snap)}</span>
      </header>
      <E2eeBanner stats={e2eeStats} />
      <section className="tiles" aria-label="Participants">
        <VideoTile label={`${name} (you)`} video={local?.getVideoTracks()[0]} muted testId="local-tile" />
        {snap.participants.map((p) => (
          <VideoTile
            key={p.peerId}
            label={p.displayName}
            video={p.tracks.find((t) => t.kind === 'video')?.track}
            audio={p.tracks.find((t) => t.kind === 'audio')?.track}
            testId={`remote-tile-${p.peerId}`}
          />
        ))}
      </section>
      <footer className="controls">
        {snap.state === 'left' ? (
          <p>You left the consultation.</p>
        ) : (
          <button type="button" onClick={leave} className="danger">
            Leave
          </button>
        )}
      </footer>
      <E2eeDebugPanel stats={e2eeStats} names={Object.fromEntries(snap.participants.map((p) => [p.peerId, p.displayName]))} />
    </main>
  );
}

function statusText(s: CallSnapshot): string {
  switch (s.state) {
    case 'joining':
      return 'Connecting…';
    case 'joined':
      return s.participants.length ? 'In call' : 'Waiting for the other participant…';
    case 'failed':
      return `Could not join: ${s.error ?? 'unknown error'}`;
    case 'left':
      return 'Left';
    default:
      return '';
  }
}
