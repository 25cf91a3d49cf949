import { useEffect, useRef } from 'react';

interface Props {
  label: string;
  video: MediaStreamTrack | undefined;
  audio?: MediaStreamTrack | undefined;
  muted?: boolean;
  testId: string;
}

/** One participant: a video element (and an audio element for remote audio). */
export function VideoTile({ label, video, audio, muted = false, testId }: Props) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const audioRef = useRef<HTMLAudioElement>(null);

  useEffect(() => {
    if (videoRef.current) videoRef.current.srcObject = video ? new MediaStream([video]) : null;
  }, [video]);
  useEffect(() => {
    if (audioRef.current) audioRef.current.srcObject = audio ? new MediaStream([audio]) : null;
  }, [audio]);

  return (
    <figure className="tile" data-testid={testId}>
      {video ? (
        <video ref={videoRef} autoPlay playsInline muted aria-label={`${label} video`} />
      ) : (
        <div className="tile-placeholder">{label}</div>
      )}
      {audio && !muted ? <audio ref={audioRef} autoPlay /> : null}
      <figcaption>{label}</figcaption>
    </figure>
  );
}
