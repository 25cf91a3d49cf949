import { useI18n } from '../../i18n.tsx';

/**
 * The opened link carries another room secret than the one this browser kept
 * for the consultation: say so, and let the doctor keep theirs (the default,
 * first) or take the link's. Nothing is replaced before they choose.
 */
export function SecretConflict({ onKeep, onUseLink }: { onKeep: () => void; onUseLink: () => void }) {
  const { t } = useI18n();
  return (
    <section className="card stack" role="alertdialog" aria-labelledby="secret-conflict-title" aria-describedby="secret-conflict-text" data-testid="secret-conflict">
      <h2 id="secret-conflict-title">{t('secretConflictTitle')}</h2>
      <p id="secret-conflict-text" className="banner warn">
        {t('secretConflictText')}
      </p>
      <div className="row">
        <button type="button" onClick={onKeep} autoFocus>
          {t('keepStoredKey')}
        </button>
        <button type="button" className="secondary" onClick={onUseLink}>
          {t('useLinkKey')}
        </button>
      </div>
    </section>
  );
}
