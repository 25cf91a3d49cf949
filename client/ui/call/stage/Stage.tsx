import { useState, type ReactNode } from 'react';
import type { RemoteParticipant } from '../../../call/call-session.ts';
import { useI18n } from '../../i18n.tsx';
import { ParticipantTile, type TileOverlay } from './ParticipantTile.tsx';
import type { PeerActivity } from './remote-activity.ts';
import { stageLayout, type StageItem } from './stage-layout.ts';

interface Props {
  participants: RemoteParticipant[];
  activity: Record<string, PeerActivity>;
  /** Per remote peerId, an overlay from the connection owner (reconnecting, paused). */
  overlays?: Record<string, TileOverlay | undefined> | undefined;
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
export function Stage({ participants, activity, overlays, empty, children }: Props) {
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
    const a = activity[p.peerId];
    return (
      <ParticipantTile
        key={`camera-${p.peerId}`}
        testId={`remote-tile-${p.peerId}`}
        name={p.displayName}
        label={p.displayName}
        kind="camera"
        size={size}
        video={video}
        micOff={a?.micOff}
        cameraOff={!video || a?.cameraOff}
        speaking={a?.speaking}
        overlay={overlays?.[p.peerId]}
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
