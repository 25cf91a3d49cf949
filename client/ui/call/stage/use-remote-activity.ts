import { useEffect, useRef, useState } from 'react';
import type { CallSession, RemoteParticipant } from '../../../call/call-session.ts';
import { foldActivity, type ActivityState, type PeerActivity, type ReceiverSample } from './remote-activity.ts';

/**
 * Polls the receivers' stats (every `everyMs`, default 500 ms) and returns,
 * per remote peerId, whether it is speaking and whether its camera has
 * shown a picture yet (see remote-activity.ts for the rules).
 * Chromium only reports a remote audio level while that track also plays
 * in an <audio> element (RemoteAudio does that).
 */
export function useRemoteActivity(session: CallSession, participants: RemoteParticipant[], everyMs = 500): Record<string, PeerActivity> {
  const [activity, setActivity] = useState<Record<string, PeerActivity>>({});
  const state = useRef<ActivityState>(new Map());
  const people = useRef(participants);
  people.current = participants;

  useEffect(() => {
    let live = true;
    let busy = false;
    const tick = async () => {
      if (busy) return; // a slow getStats must not pile up
      busy = true;
      try {
        const samples = await sample(session, people.current);
        if (!live) return;
        const folded = foldActivity(state.current, samples, people.current.map((p) => p.peerId), performance.now());
        state.current = folded.state;
        setActivity((old) => (same(old, folded.activity) ? old : folded.activity));
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), everyMs);
    void tick();
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [session, everyMs]);
  return activity;
}

/**
 * One getStats of the whole connection per poll (a receiver's getStats
 * collects the whole connection's stats too, then filters: N of them cost N
 * times as much), matched to tracks by trackIdentifier.
 */
async function sample(session: CallSession, participants: RemoteParticipant[]): Promise<ReceiverSample[]> {
  const byTrack = new Map<string, { consumerId: string; peerId: string; source: ReceiverSample['source'] }>();
  for (const p of participants) for (const t of p.tracks) byTrack.set(t.track.id, { consumerId: t.consumerId, peerId: p.peerId, source: t.source });
  if (byTrack.size === 0) return [];
  const out: ReceiverSample[] = [];
  for (const report of await session.transportStats().catch(() => [])) {
    report.forEach((s: Record<string, unknown>) => {
      if (s.type !== 'inbound-rtp' || typeof s.trackIdentifier !== 'string') return;
      const t = byTrack.get(s.trackIdentifier);
      if (!t) return;
      out.push({
        ...t,
        packets: Number(s.packetsReceived ?? 0),
        frames: Number(s.framesDecoded ?? 0),
        audioLevel: typeof s.audioLevel === 'number' ? s.audioLevel : undefined,
      });
    });
  }
  return out;
}

function same(a: Record<string, PeerActivity>, b: Record<string, PeerActivity>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => {
    const x = a[k];
    const y = b[k];
    return !!x && !!y && x.speaking === y.speaking && x.pictureReady === y.pictureReady;
  });
}
