import { useEffect, useRef } from 'react';

/**
 * A muted, inline, autoplaying <video> showing one track. Sound never plays
 * here (RemoteAudio does it). `hidden` keeps the element and its stream
 * attached while a placeholder covers it, so turning a camera back on shows
 * the picture at once.
 */
export function VideoView({ track, label, hidden = false, mirrored = false }: { track: MediaStreamTrack; label: string; hidden?: boolean; mirrored?: boolean }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.srcObject = new MediaStream([track]);
  }, [track]);
  return (
    <video
      ref={ref}
      autoPlay
      playsInline
      muted
      className={`${mirrored ? 'mirrored' : ''}${hidden ? ' off' : ''}`.trim() || undefined}
      aria-label={label}
      aria-hidden={hidden || undefined}
    />
  );
}
