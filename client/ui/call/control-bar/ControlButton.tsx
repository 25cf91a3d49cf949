import type { ReactNode } from 'react';

interface Props {
  /** The accessible name, also the visible label where there is room (hidden on phones, still read). */
  label: string;
  icon: ReactNode;
  onClick: () => void;
  /** Visual tone: `off` (a muted mic, a camera off), `on` (sharing, panel open), `danger`, `end`. */
  tone?: 'default' | 'off' | 'on' | 'danger' | 'end';
  /** For buttons that open a panel. */
  expanded?: boolean;
  controls?: string;
  /** A small count on the icon (unread messages); `badgeLabel` says it to screen readers. */
  badge?: number;
  badgeLabel?: string;
  /** Keep the label visible even on phones (End consultation must never be an ambiguous icon). */
  alwaysLabel?: boolean;
  testId?: string;
}

/** One button of the control bar: at least 44×44 px, an icon and a label. */
export function ControlButton({ label, icon, onClick, tone = 'default', expanded, controls, badge, badgeLabel, alwaysLabel, testId }: Props) {
  return (
    <button
      type="button"
      className={`cb-button tone-${tone}${alwaysLabel ? ' always-label' : ''}`}
      onClick={onClick}
      aria-expanded={expanded}
      aria-controls={controls}
      data-testid={testId}
    >
      <span className="cb-icon" aria-hidden="true">
        {icon}
        {badge ? <span className="cb-badge">{badge > 99 ? '99+' : badge}</span> : null}
      </span>
      <span className="cb-label">{label}</span>
      {badge && badgeLabel ? <span className="sr-only">, {badgeLabel}</span> : null}
    </button>
  );
}
