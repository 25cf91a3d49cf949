import type { ConsultationCall } from '../../call/consultation-call.ts';
import { useCallState, type CallLifecycle } from './useCallState.ts';
import { CallScreen } from './CallScreen.tsx';

interface CallViewProps extends CallLifecycle {
  call: ConsultationCall;
  stream: MediaStream;
  name: string;
}

/**
 * The call page, for doctor and patient alike: joins on mount, closes when
 * over (useCallState), laid out by CallScreen. Reconnection (issue 9) shows
 * as the connection banner in the top bar and overlays on remote tiles.
 */
export function CallView({ call, stream, name, onJoinFailed, onReadmission }: CallViewProps) {
  const { state, actions } = useCallState(call, stream, name, { onJoinFailed, onReadmission });
  return <CallScreen call={call} stream={stream} name={name} state={state} actions={actions} />;
}
