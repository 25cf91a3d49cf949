import { useEffect, useRef } from 'react';
import type { RemoteParticipant } from '../../../call/call-session.ts';

/**
 * Plays every remote microphone, each in its own <audio> element, outside
 * the stage so that a tile moving (stage ↔ strip) never restarts the sound.
 * Chromium also needs this element for the receiver to report audioLevel
 * (the speaking indicator).
 */
export function RemoteAudio({ participants }: { participants: RemoteParticipant[] }) {
  return (
    <div className="remote-audio" hidden>
      {participants.flatMap((p) =>
        p.tracks.filter((t) => t.source === 'mic').map((t) => <AudioOut key={t.consumerId} track={t.track} />),
      )}
    </div>
  );
}

function AudioOut({ track }: { track: MediaStreamTrack }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.srcObject = new MediaStream([track]);
  }, [track]);
  return <audio ref={ref} autoPlay />;
}
