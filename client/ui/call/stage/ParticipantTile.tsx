import { Expand, Loader, Shrink } from 'lucide-react';
import { MediaFlags } from './MediaFlags.tsx';
import { useI18n } from '../../i18n.tsx';
import { VideoView } from './VideoView.tsx';
import { initials } from './stage-layout.ts';

/**
 * What is wrong with a remote tile's media, said over it: the person is
 * reconnecting, its video is paused (no frame for > 2 s), or — a small
 * note for a moment — it just came back.
 */
export interface TileOverlay {
  kind: 'reconnecting' | 'paused' | 'reconnected';
  /** Already translated, shown and announced (role=status). */
  text: string;
}

export interface ParticipantTileProps {
  /** data-testid: remote-tile-<peerId> (camera) or screen-tile-<peerId> (screen). */
  testId: string;
  /** The participant's display name (initials come from it). */
  name: string;
  /** Caption under the picture (the name, or "Screen of …"). */
  label: string;
  kind: 'camera' | 'screen';
  /** Where the tile sits: `main` (the stage), `grid` (one of equal tiles), `thumb` (the strip). */
  size: 'main' | 'grid' | 'thumb';
  video: MediaStreamTrack | undefined;
  micOff?: boolean;
  /** True shows the initials instead of the (black or frozen) picture. */
  cameraOff?: boolean;
  speaking?: boolean;
  overlay?: TileOverlay | undefined;
  /** `cover` crops to fill (faces), `contain` shows the whole picture (screens). */
  fit?: 'cover' | 'contain';
  /** When given, a button switches between filling the stage and showing the whole picture. */
  onToggleFit?: () => void;
}

/**
 * One remote participant's camera or screen: the video (kept mounted so its
 * stream never restarts), initials when the camera is off, a mic-off mark,
 * a speaking ring, and the optional overlay. Audio is not here: RemoteAudio
 * plays it, so moving a tile between stage and strip never cuts the sound.
 */
export function ParticipantTile(props: ParticipantTileProps) {
  const { t } = useI18n();
  const { testId, name, label, kind, size, video, micOff, cameraOff, speaking, overlay, fit = 'cover', onToggleFit } = props;
  const showPicture = !!video && !(kind === 'camera' && cameraOff);
  return (
    <figure
      className={`ptile ptile-${size} ptile-${kind} fit-${fit}${speaking ? ' speaking' : ''}`}
      data-testid={testId}
      data-camera-off={kind === 'camera' ? String(!showPicture) : undefined}
      data-mic-off={kind === 'camera' ? String(!!micOff) : undefined}
      data-speaking={kind === 'camera' ? String(!!speaking) : undefined}
    >
      {video ? <VideoView track={video} label={label} hidden={!showPicture} /> : null}
      {!showPicture ? (
        <div className="ptile-placeholder" aria-hidden="true">
          <span className="avatar">{initials(name)}</span>
        </div>
      ) : null}
      {overlay ? (
        <div className={`ptile-overlay ${overlay.kind}`} role="status" data-testid="tile-overlay" data-kind={overlay.kind}>
          {overlay.kind === 'reconnecting' ? <Loader className="spin" aria-hidden="true" size={20} /> : null}
          <span>{overlay.text}</span>
        </div>
      ) : null}
      <figcaption>
        {kind === 'camera' ? <MediaFlags micOff={!!micOff} cameraOff={!showPicture} /> : null}
        <span className="ptile-name">{label}</span>
        {speaking ? <span className="sr-only">{t('csSpeaking')}</span> : null}
      </figcaption>
      {onToggleFit && showPicture ? (
        <button type="button" className="tile-button ptile-fit" onClick={onToggleFit} aria-label={fit === 'cover' ? t('csFitWhole') : t('csFillStage')}>
          {fit === 'cover' ? <Shrink aria-hidden="true" size={20} /> : <Expand aria-hidden="true" size={20} />}
        </button>
      ) : null}
    </figure>
  );
}
