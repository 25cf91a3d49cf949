import { useEffect, useId, useRef } from 'react';
import { useI18n } from '../../i18n.tsx';

/**
 * "End the consultation for everyone?" as a modal <dialog> (the browser
 * traps focus and closes it on Escape). Focus starts on Cancel: the
 * irreversible choice is never the default.
 */
export function EndConsultationDialog({ onCancel, onConfirm }: { onCancel: () => void; onConfirm: () => void }) {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    cancelRef.current?.focus();
    return () => {
      if (dialog.open) dialog.close();
      opener?.focus(); // back to the button that opened it
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className="confirm-dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-text`}
      data-testid="end-confirm"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <h2 id={`${id}-title`}>{t('csEndConfirmTitle')}</h2>
      <p id={`${id}-text`}>{t('csEndConfirmText')}</p>
      <div className="dialog-actions">
        <button type="button" ref={cancelRef} className="secondary" onClick={onCancel}>
          {t('csCancel')}
        </button>
        <button type="button" className="danger" onClick={onConfirm}>
          {t('csEndConfirm')}
        </button>
      </div>
    </dialog>
  );
}
