import { useId, useRef, useState } from 'react';
import type { ConsultationCall } from '../../call/consultation-call.ts';
import { LanguageSwitch, useI18n, type StringKey } from '../i18n.tsx';
import type { CallActions, CallState } from './useCallState.ts';
import { TopBar } from './status/TopBar.tsx';
import { Stage } from './stage/Stage.tsx';
import { RemoteAudio } from './stage/RemoteAudio.tsx';
import { SelfView } from './self-view/SelfView.tsx';
import { ControlBar } from './control-bar/ControlBar.tsx';
import { canShareScreen } from './control-bar/screen-share.ts';
import { SidePanel } from './side-panel/SidePanel.tsx';
import { SecurityDetails } from './side-panel/SecurityDetails.tsx';
import { countUnread } from './side-panel/unread.ts';
import { ChatPanel } from './ChatPanel.tsx';
import { WaitingList } from './WaitingList.tsx';
import { SecurityWarnings } from './SecurityWarnings.tsx';
import { E2eeBanner } from './E2eePanel.tsx';
import { ConnectionBanner } from './ConnectionBanner.tsx';
import { callMemory } from '../../call/call-memory.ts';
import type { CallSnapshot } from '../../call/call-session.ts';
import './connection.css';
import './call-screen.css';
import { callErrorText } from '../errors.ts';

export interface CallScreenProps {
  call: ConsultationCall;
  stream: MediaStream;
  /** Our display name. */
  name: string;
  state: CallState;
  actions: CallActions;
}

type Panel = 'chat' | 'security' | undefined;

/**
 * The call screen's layout: top bar, stage (with the self view and notices
 * floating over it), an optional side panel (chat or the security
 * explanation), and the control bar, in a grid the height of the viewport
 * (call-screen.css), so nothing ever scrolls away.
 */
export function CallScreen({ call, stream, name, state, actions }: CallScreenProps) {
  const { t } = useI18n();
  const { snap, ka, stats, badge, chat, chatSnap, waiting, names, activity, over, connected } = state;
  const [panel, setPanel] = useState<Panel>();
  const [selfHidden, setSelfHidden] = useState(false);
  const seen = useRef(new Set<string>());
  const uid = useId();
  const ids = { chat: `${uid}-chat`, security: `${uid}-security`, securityTitle: `${uid}-security-title` };

  // Messages count as read while the chat is open.
  const messages = chatSnap?.messages ?? [];
  if (panel === 'chat') for (const m of messages) seen.current.add(m.id);
  const unread = countUnread(messages, seen.current);
  const toggle = (p: Exclude<Panel, undefined>) => setPanel((cur) => (cur === p ? undefined : p));

  if (over) {
    return (
      <main className="call-screen over" data-state={snap.state} data-role={snap.role ?? ''}>
        <header className="top-bar">
          <h1>{t('consultation')}</h1>
          <span className="top-right">
            <LanguageSwitch />
          </span>
        </header>
        <div className="call-over-wrap">
          <div className="call-over" role="status" data-testid="call-over" data-reason={snap.state}>
            <p>{snap.state === 'ended' ? t('endedText') : snap.state === 'replaced' ? t('replacedText') : t('youLeft')}</p>
            {snap.state === 'left' ? (
              <button
                type="button"
                data-testid="rejoin-after-leave"
                onClick={() => {
                  // Back in through the tab's memory: a patient's credential, no second admission.
                  callMemory.update(call.roomId, { inCall: true });
                  window.location.reload();
                }}
              >
                {t('rejoin')}
              </button>
            ) : null}
          </div>
        </div>
      </main>
    );
  }

  const isDoctor = snap.role === 'doctor';
  const waitingNames = waiting.map((w) => w.displayName).join(', ');
  const status = statusText(snap, t);
  const empty =
    snap.state === 'failed' ? (
      <p className="stage-message" role="alert">
        {status}
      </p>
    ) : isDoctor ? (
      <WaitingList call={call} variant="stage" />
    ) : (
      <p className="stage-message">{status}</p>
    );

  return (
    <main className={`call-screen${panel ? ' panel-open' : ''}`} data-state={snap.state} data-role={snap.role ?? ''}>
      <TopBar
        statusText={waiting.length && isDoctor ? `${status} — ${t('csPatientsWaiting', { names: waitingNames })}` : status}
        badge={badge}
        connected={connected}
        safetyCode={ka?.safetyCode}
        session={call.session}
        securityOpen={panel === 'security'}
        securityPanelId={ids.security}
        onToggleSecurity={() => toggle('security')}
        banner={<ConnectionBanner connection={snap.connection} onRejoin={() => call.connection.retryNow()} />}
      />
      <Stage participants={snap.participants} activity={activity} empty={empty}>
        <div className="stage-notices">
          <SecurityWarnings ka={ka} names={names} />
          <E2eeBanner stats={stats} />
          {snap.sending.screen ? (
            <p className="notice info" role="status">
              {t('csPresenting')}
            </p>
          ) : null}
          {isDoctor && snap.participants.length > 0 ? <WaitingList call={call} variant="floating" /> : null}
        </div>
        <SelfView
          name={name}
          video={stream.getVideoTracks()[0]}
          micOn={snap.sending.mic}
          cameraOn={snap.sending.camera}
          hidden={selfHidden}
          onToggleHidden={() => setSelfHidden((h) => !h)}
        />
      </Stage>
      <RemoteAudio participants={snap.participants} />
      <SidePanel id={ids.chat} title={t('chatTitle')} open={panel === 'chat'} onClose={() => setPanel(undefined)} initialFocus="textarea">
        {chat ? <ChatPanel chat={chat} names={names} /> : <p className="panel-note">{t('connecting')}</p>}
      </SidePanel>
      <SidePanel
        id={ids.security}
        title={t('csSecurityTitle')}
        open={panel === 'security'}
        onClose={() => setPanel(undefined)}
        initialFocus={`[id="${ids.securityTitle}"]`}
      >
        <SecurityDetails titleId={ids.securityTitle} status={badge} ka={ka} stats={stats} names={names} />
      </SidePanel>
      <ControlBar
        micOn={snap.sending.mic}
        cameraOn={snap.sending.camera}
        sharing={snap.sending.screen}
        canShare={canShareScreen()}
        chatOpen={panel === 'chat'}
        unread={unread}
        chatPanelId={ids.chat}
        isDoctor={isDoctor}
        onToggleMic={actions.toggleMic}
        onToggleCamera={actions.toggleCamera}
        onToggleShare={() => void actions.toggleShare()}
        onToggleChat={() => toggle('chat')}
        onLeave={() => void actions.leave()}
        onEndForAll={() => void actions.endForAll()}
      />
    </main>
  );
}

function statusText(s: CallSnapshot, t: (k: StringKey, v?: Record<string, string>) => string): string {
  switch (s.state) {
    case 'joined':
      if (s.connection.phase === 'reconnecting') return t('connReconnectingSignalling');
      return s.participants.length ? t('inCall') : t('waitingOther');
    case 'failed':
      return s.errorCode ? t('couldNotJoinBecause', { reason: callErrorText(t, s.errorCode) }) : t('couldNotJoin');
    default:
      return t('connecting');
  }
}
