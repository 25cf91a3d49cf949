import { useState, type ReactNode } from 'react';
import type { RemoteParticipant } from '../../../call/call-session.ts';
import { useI18n } from '../../i18n.tsx';
import { useRecent, RECONNECTED_SHOWN_MS } from '../ConnectionBanner.tsx';
import { ParticipantTile, type TileOverlay } from './ParticipantTile.tsx';
import type { PeerActivity } from './remote-activity.ts';
import { stageLayout, type StageItem } from './stage-layout.ts';

interface Props {
  participants: RemoteParticipant[];
  activity: Record<string, PeerActivity>;
  /** Shown on an empty stage (nobody else here yet): the waiting message or the doctor's waiting list. */
  empty: ReactNode;
  /** Floats over the stage: the self view, notices. */
  children?: ReactNode;
}

/**
 * The main stage: the other person large (aspect ratio kept: cropped to fill,
 * or whole on demand), a screen share large with the cameras in a strip,
 * a grid for three people or more (rules in stage-layout.ts).
 */
export function Stage({ participants, activity, empty, children }: Props) {
  const { t } = useI18n();
  const [fit, setFit] = useState<'cover' | 'contain'>('cover');
  const layout = stageLayout(participants.map((p) => ({ peerId: p.peerId, sharing: p.tracks.some((x) => x.source === 'screen') })));
  const byId = new Map(participants.map((p) => [p.peerId, p]));

  const tile = (item: StageItem, size: 'main' | 'grid' | 'thumb') => {
    const p = byId.get(item.peerId);
    if (!p) return null;
    const video = p.tracks.find((x) => x.source === item.kind)?.track;
    if (item.kind === 'screen') {
      return (
        <ParticipantTile
          key={`screen-${p.peerId}`}
          testId={`screen-tile-${p.peerId}`}
          name={p.displayName}
          label={t('screenOf', { name: p.displayName })}
          kind="screen"
          size={size}
          video={video}
          fit="contain"
        />
      );
    }
    return (
      <CameraTile
        key={`camera-${p.participantId}`}
        p={p}
        size={size}
        activity={activity[p.peerId]}
        fit={size === 'main' ? fit : 'cover'}
        onToggleFit={size === 'main' ? () => setFit((f) => (f === 'cover' ? 'contain' : 'cover')) : undefined}
      />
    );
  };

  return (
    <section className={`stage stage-${layout.mode}`} aria-label={t('csStage')} data-mode={layout.mode}>
      {/* The section is the size container (call-screen.css); this box is laid out by it. */}
      <div className="stage-body">
        {layout.mode === 'empty' ? <div className="stage-empty">{empty}</div> : null}
        {layout.main.length ? (
          <div className="stage-main" data-count={layout.main.length}>
            {layout.main.map((item) => tile(item, layout.mode === 'grid' ? 'grid' : 'main'))}
          </div>
        ) : null}
        {layout.thumbnails.length ? <div className="stage-strip">{layout.thumbnails.map((item) => tile(item, 'thumb'))}</div> : null}
      </div>
      {children}
    </section>
  );
}

/**
 * A remote person's camera tile. Mute and camera-off come from the sender
 * (signalled pause); speaking and "no picture yet" from the receiver stats.
 * Over it: reconnecting, video paused (stalled, not paused by choice), or
 * "reconnected" for a moment (the connection owner's state, issue 9).
 */
function CameraTile(props: {
  p: RemoteParticipant;
  size: 'main' | 'grid' | 'thumb';
  activity: PeerActivity | undefined;
  fit: 'cover' | 'contain';
  onToggleFit: (() => void) | undefined;
}) {
  const { t } = useI18n();
  const { p, size, activity, fit, onToggleFit } = props;
  const camera = p.tracks.find((x) => x.source === 'camera');
  const mic = p.tracks.find((x) => x.source === 'mic');
  const justBack = useRecent(p.reconnectedAt, RECONNECTED_SHOWN_MS);
  const stalled = !!camera && camera.stalled && !camera.paused;
  const overlay: TileOverlay | undefined = p.reconnecting
    ? { kind: 'reconnecting', text: t('peerReconnecting', { name: p.displayName }) }
    : stalled
      ? { kind: 'paused', text: t('videoPaused') }
      : justBack
        ? { kind: 'reconnected', text: t('peerReconnected', { name: p.displayName }) }
        : undefined;
  const micOff = !mic || mic.paused;
  return (
    <ParticipantTile
      testId={`remote-tile-${p.peerId}`}
      name={p.displayName}
      label={p.displayName}
      kind="camera"
      size={size}
      video={camera?.track}
      micOff={micOff}
      // A stalled picture stays (frozen, under its overlay); before the first frame, initials.
      cameraOff={!camera || camera.paused || (!stalled && activity?.pictureReady === false)}
      speaking={!micOff && !!activity?.speaking}
      overlay={overlay}
      fit={fit}
      onToggleFit={onToggleFit}
    />
  );
}
