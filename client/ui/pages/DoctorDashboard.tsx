import { useEffect, useState } from 'react';
import { api, type ConsultationView } from '../../api/api-client.ts';
import { doctorLink, rememberedSecrets } from '../../call/invite-links.ts';
import { useI18n } from '../i18n.tsx';
import { formatTime, statusLabel } from '../format.ts';

/**
 * Today's consultations, refreshed every 5 s. Opening one needs its secret,
 * which only the doctor link (or this browser) has; ended and expired ones
 * cannot be opened.
 */
export function DoctorDashboard() {
  const { t, lang } = useI18n();
  const [list, setList] = useState<ConsultationView[]>();
  useEffect(() => {
    const load = () => api.myConsultations().then(setList, () => setList([]));
    void load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, []);
  if (!list) return null;
  return (
    <section className="card" aria-labelledby="today-title">
      <h2 id="today-title">{t('todayConsultations')}</h2>
      {list.length === 0 ? <p>{t('noConsultations')}</p> : null}
      <ul className="plain" data-testid="doctor-consultations">
        {list.map((c) => {
          const secret = rememberedSecrets.load(c.id);
          return (
            <li key={c.id} className="row spread" data-consultation-id={c.id}>
              <span>
                <strong>{formatTime(c.scheduledAt, lang)}</strong> {c.patientName} — {statusLabel(t, c.status)}
                {c.live.waiting && c.status !== 'waiting' ? ` (${t('status_waiting')})` : ''}
              </span>
              {!c.endable ? null : secret ? (
                <a className="button" href={doctorLink(window.location.origin, c.id, secret)}>
                  {t('open')} <span className="sr-only">{c.patientName}</span>
                </a>
              ) : (
                <small>{t('openFromLink')}</small>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
