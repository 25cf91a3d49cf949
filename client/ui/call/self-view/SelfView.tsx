import { Eye, EyeOff } from 'lucide-react';
import { MediaFlags } from '../stage/MediaFlags.tsx';
import { useI18n } from '../../i18n.tsx';
import { VideoView } from '../stage/VideoView.tsx';
import { initials } from '../stage/stage-layout.ts';

interface Props {
  name: string;
  /** The local camera track; undefined when there is none. */
  video: MediaStreamTrack | undefined;
  micOn: boolean;
  cameraOn: boolean;
  hidden: boolean;
  onToggleHidden: () => void;
}

/**
 * Our own camera as a small picture-in-picture in a corner of the stage
 * (CSS keeps it under a quarter of the stage's width), mirrored like a
 * mirror, with mic-off / camera-off marks; it can be hidden to a small button.
 */
export function SelfView({ name, video, micOn, cameraOn, hidden, onToggleHidden }: Props) {
  const { t } = useI18n();
  const label = t('you', { name });
  if (hidden) {
    return (
      <div className="self-view collapsed" data-testid="local-tile" data-hidden="true">
        <button type="button" className="tile-button" onClick={onToggleHidden} aria-label={t('csShowSelf')}>
          <Eye aria-hidden="true" size={20} />
        </button>
      </div>
    );
  }
  return (
    <figure className="self-view" data-testid="local-tile" data-hidden="false" data-camera-off={String(!cameraOn)}>
      {video ? <VideoView track={video} label={label} hidden={!cameraOn} mirrored /> : null}
      {!cameraOn || !video ? (
        <div className="ptile-placeholder" aria-hidden="true">
          <span className="avatar small">{initials(name)}</span>
        </div>
      ) : null}
      <figcaption>
        <MediaFlags micOff={!micOn} cameraOff={!cameraOn} />
        <span className="ptile-name">{label}</span>
      </figcaption>
      <button type="button" className="tile-button self-hide" onClick={onToggleHidden} aria-label={t('csHideSelf')}>
        <EyeOff aria-hidden="true" size={18} />
      </button>
    </figure>
  );
}
