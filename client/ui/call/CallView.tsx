import type { ReactNode } from 'react';
import type { ConsultationCall } from '../../call/consultation-call.ts';
import { useCallState } from './useCallState.ts';
import { CallScreen } from './CallScreen.tsx';
import type { TileOverlay } from './stage/ParticipantTile.tsx';

/**
 * The call page, for doctor and patient alike: joins on mount, closes when
 * over (useCallState), laid out by CallScreen.
 * `banner` and `overlays` are the connection owner's slots (reconnection).
 */
export function CallView({
  call,
  stream,
  name,
  banner,
  overlays,
}: {
  call: ConsultationCall;
  stream: MediaStream;
  name: string;
  banner?: ReactNode;
  overlays?: Record<string, TileOverlay | undefined>;
}) {
  const { state, actions } = useCallState(call, stream, name);
  return <CallScreen call={call} stream={stream} name={name} state={state} actions={actions} banner={banner} overlays={overlays} />;
}
