import { X } from 'lucide-react';
import { useEffect, useRef, type ReactNode } from 'react';
import { useI18n } from '../../i18n.tsx';

interface Props {
  id: string;
  /** Accessible name of the panel (and of its close button: "Close <title>"). */
  title: string;
  open: boolean;
  onClose: () => void;
  /** CSS selector of the element to focus on opening (else the close button). */
  initialFocus?: string;
  children: ReactNode;
}

/**
 * A panel beside the stage on wide screens, a bottom sheet over it on
 * phones (CSS). Not modal: the call stays usable. It stays mounted while
 * closed (`hidden`), so a half-written message survives; Escape closes it
 * and focus goes back where it was.
 */
export function SidePanel({ id, title, open, onClose, initialFocus, children }: Props) {
  const { t } = useI18n();
  const ref = useRef<HTMLElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const target = (initialFocus ? ref.current?.querySelector<HTMLElement>(initialFocus) : null) ?? closeRef.current;
    target?.focus();
    return () => {
      // Only when focus was inside: do not steal it from where the user went.
      if (ref.current?.contains(document.activeElement) || document.activeElement === document.body) opener?.focus();
    };
  }, [open, initialFocus]);
  return (
    <aside
      id={id}
      ref={ref}
      className="side-panel"
      aria-label={title}
      hidden={!open}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <button type="button" ref={closeRef} className="tile-button panel-close" onClick={onClose} aria-label={`${t('csClosePanel')} — ${title}`}>
        <X aria-hidden="true" size={20} />
      </button>
      {children}
    </aside>
  );
}
