import { useEffect, useRef } from 'react';

interface Props {
  label: string;
  video: MediaStreamTrack | undefined;
  audio?: MediaStreamTrack | undefined;
  muted?: boolean;
  testId: string;
  /** Screens are shown whole (letterboxed), faces fill the tile. */
  fit?: 'cover' | 'contain';
  /** Said over the video: the person is reconnecting, its video is paused, or it just came back. */
  overlay?: { kind: 'reconnecting' | 'paused' | 'reconnected'; text: string } | undefined;
}

/** One participant: a video element (and an audio element for remote audio). */
export function VideoTile({ label, video, audio, muted = false, testId, fit = 'cover', overlay }: Props) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const audioRef = useRef<HTMLAudioElement>(null);

  useEffect(() => {
    if (videoRef.current) videoRef.current.srcObject = video ? new MediaStream([video]) : null;
  }, [video]);
  useEffect(() => {
    if (audioRef.current) audioRef.current.srcObject = audio ? new MediaStream([audio]) : null;
  }, [audio]);

  return (
    <figure className={`tile fit-${fit}`} data-testid={testId}>
      {video ? (
        <video ref={videoRef} autoPlay playsInline muted aria-label={`${label} video`} />
      ) : (
        <div className="tile-placeholder">{label}</div>
      )}
      {overlay ? (
        <div className={`tile-overlay ${overlay.kind}`} role="status" data-testid="tile-overlay" data-kind={overlay.kind}>
          {overlay.text}
        </div>
      ) : null}
      {audio && !muted ? <audio ref={audioRef} autoPlay /> : null}
      <figcaption>{label}</figcaption>
    </figure>
  );
}
