import { MessageSquare, Mic, MicOff, MonitorUp, MonitorX, PhoneOff, Video, VideoOff, CircleStop } from 'lucide-react';
import { useState } from 'react';
import { useI18n } from '../../i18n.tsx';
import { ControlButton } from './ControlButton.tsx';
import { EndConsultationDialog } from './EndConsultationDialog.tsx';

export interface ControlBarProps {
  micOn: boolean;
  cameraOn: boolean;
  sharing: boolean;
  /** The browser can share a screen (no getDisplayMedia on most phones). */
  canShare: boolean;
  chatOpen: boolean;
  /** Messages from others not seen yet (badge on Chat). */
  unread: number;
  /** id of the chat panel element (aria-controls). */
  chatPanelId: string;
  /** The doctor also gets "End consultation". */
  isDoctor: boolean;
  onToggleMic: () => void;
  onToggleCamera: () => void;
  onToggleShare: () => void;
  onToggleChat: () => void;
  onLeave: () => void;
  /** Called only after the doctor confirmed in the dialog. */
  onEndForAll: () => void;
}

/**
 * The one control bar, fixed at the bottom of the call screen (CSS keeps it
 * inside the viewport in portrait and landscape, above the safe-area inset).
 * "Leave" leaves at once; "End consultation" looks different and asks first.
 */
export function ControlBar(p: ControlBarProps) {
  const { t } = useI18n();
  const [confirming, setConfirming] = useState(false);
  return (
    <footer className="control-bar" aria-label={t('csCallControls')} data-testid="control-bar">
      <div className="cb-group">
        <ControlButton
          label={p.micOn ? t('mute') : t('unmute')}
          icon={p.micOn ? <Mic size={22} /> : <MicOff size={22} />}
          tone={p.micOn ? 'default' : 'off'}
          onClick={p.onToggleMic}
        />
        <ControlButton
          label={p.cameraOn ? t('cameraOff') : t('cameraOn')}
          icon={p.cameraOn ? <Video size={22} /> : <VideoOff size={22} />}
          tone={p.cameraOn ? 'default' : 'off'}
          onClick={p.onToggleCamera}
        />
        {p.canShare ? (
          <ControlButton
            label={p.sharing ? t('stopShare') : t('shareScreen')}
            icon={p.sharing ? <MonitorX size={22} /> : <MonitorUp size={22} />}
            tone={p.sharing ? 'on' : 'default'}
            onClick={p.onToggleShare}
          />
        ) : null}
        <ControlButton
          label={t('csChat')}
          testId="chat-toggle"
          icon={<MessageSquare size={22} />}
          tone={p.chatOpen ? 'on' : 'default'}
          expanded={p.chatOpen}
          controls={p.chatPanelId}
          badge={p.chatOpen ? 0 : p.unread}
          badgeLabel={t('csUnread', { count: p.unread })}
          onClick={p.onToggleChat}
        />
      </div>
      <div className="cb-group">
        <ControlButton label={t('leave')} icon={<PhoneOff size={22} />} tone="danger" onClick={p.onLeave} />
        {p.isDoctor ? (
          <ControlButton label={t('endForAll')} icon={<CircleStop size={22} />} tone="end" alwaysLabel onClick={() => setConfirming(true)} />
        ) : null}
      </div>
      {/* The badge is not announced by itself: say new messages politely while the chat is closed. */}
      <span className="sr-only" role="status">
        {!p.chatOpen && p.unread > 0 ? `${t('csChat')}: ${t('csUnread', { count: p.unread })}` : ''}
      </span>
      {confirming ? (
        <EndConsultationDialog
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            p.onEndForAll();
          }}
        />
      ) : null}
    </footer>
  );
}
