import { useSyncExternalStore } from 'react';
import type { ConsultationCall } from '../../call/consultation-call.ts';
import { useI18n } from '../i18n.tsx';

/** The doctor's view of the waiting room. */
export function WaitingList({ call }: { call: ConsultationCall }) {
  const { t } = useI18n();
  const waiting = useSyncExternalStore(call.waiting.subscribe, call.waiting.get);
  return (
    <section className="card waiting" aria-labelledby="waiting-title" aria-live="polite" data-testid="waiting-list">
      <h2 id="waiting-title">{t('waitingPatients')}</h2>
      {waiting.length === 0 ? <p>{t('noOneWaiting')}</p> : null}
      <ul className="plain">
        {waiting.map((w) => (
          <li key={w.requestId} className="row spread" data-same-link={w.sameLink ?? ''}>
            <span>
              {w.displayName}
              {w.sameLink ? (
                <strong className="same-link" data-testid="same-link">
                  {' '}
                  · {t(w.sameLink === 'in-call' ? 'sameLinkInCall' : 'sameLinkWaiting')}
                </strong>
              ) : null}
            </span>
            <span className="row">
              {w.sameLink ? (
                <>
                  <button type="button" onClick={() => void call.decide(w.requestId, true, 'replace')}>
                    {t('admitReplace')} <span className="sr-only">{w.displayName}</span>
                  </button>
                  <button type="button" className="secondary" onClick={() => void call.decide(w.requestId, true, 'add')}>
                    {t('admitBoth')} <span className="sr-only">{w.displayName}</span>
                  </button>
                </>
              ) : (
                <button type="button" onClick={() => void call.decide(w.requestId, true)}>
                  {t('admit')} <span className="sr-only">{w.displayName}</span>
                </button>
              )}
              <button type="button" className="secondary" onClick={() => void call.decide(w.requestId, false)}>
                {t('decline')} <span className="sr-only">{w.displayName}</span>
              </button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
