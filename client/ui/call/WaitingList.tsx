import { useSyncExternalStore } from 'react';
import type { ConsultationCall } from '../../call/consultation-call.ts';
import { useI18n } from '../i18n.tsx';

/**
 * The doctor's view of the waiting room: on the empty stage while alone
 * (`stage`, says when nobody waits), or floating over the call while someone
 * waits (`floating`, nothing when nobody does).
 */
export function WaitingList({ call, variant = 'stage' }: { call: ConsultationCall; variant?: 'stage' | 'floating' }) {
  const { t } = useI18n();
  const waiting = useSyncExternalStore(call.waiting.subscribe, call.waiting.get);
  if (variant === 'floating' && waiting.length === 0) return null;
  return (
    <section className={`card waiting waiting-${variant}`} aria-labelledby="waiting-title" aria-live="polite" data-testid="waiting-list">
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
