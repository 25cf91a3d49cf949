import { useCallback, useState } from 'react';
import { api, type ConsultationView, type User } from '../../api/api-client.ts';
import { useI18n } from '../i18n.tsx';
import { errorText } from '../errors.ts';
import { usePolled } from '../use-polled.ts';
import { formatDuration, formatTime, statusLabel } from '../format.ts';
import { Doctors } from './console/Doctors.tsx';
import { NewConsultation } from './console/NewConsultation.tsx';

/**
 * The clinic admin: practitioners and consultations, refreshed every 3 s.
 * Holds no media key and receives no content. A failed load shows until a
 * load succeeds; a failed action (end, disable…) until an action succeeds.
 */
export function AdminConsole() {
  const { t, lang } = useI18n();
  const [doctors, setDoctors] = useState<User[]>();
  const [consultations, setConsultations] = useState<ConsultationView[]>([]);
  const [loadError, setLoadError] = useState<unknown>();
  const [actionError, setActionError] = useState<unknown>();
  // Only the newest answer is shown: a slow poll must not bring back the list from before an action.
  const refresh = usePolled(
    () => Promise.all([api.doctors(), api.consultations()]),
    ([d, c]) => {
      setDoctors(d);
      setConsultations(c);
      setLoadError(undefined);
    },
    setLoadError,
    3000,
  );
  /** Runs a console action; its success clears an earlier action's error banner. */
  const act = useCallback(
    async (action: () => Promise<unknown>) => {
      try {
        await action();
        setActionError(undefined);
      } catch (err) {
        setActionError(err);
      }
      await refresh();
    },
    [refresh],
  );

  const error = actionError ?? loadError;
  return (
    <div className="console">
      <h2>{t('adminConsole')}</h2>
      {error !== undefined ? (
        <p role="alert" className="banner danger" data-testid="console-error">
          {errorText(t, error)}
        </p>
      ) : null}
      <div className="grid-2">
        <Doctors doctors={doctors ?? []} onCreated={refresh} onToggle={(d) => act(() => api.setDoctorDisabled(d.id, !d.disabled))} />
        <NewConsultation doctors={doctors?.filter((d) => !d.disabled)} onCreated={refresh} />
      </div>
      <section aria-labelledby="consultations-title" className="card">
        <h3 id="consultations-title">{t('consultations')}</h3>
        <div className="table-wrap">
          <table data-testid="consultations-table">
            <thead>
              <tr>
                <th scope="col">{t('scheduled')}</th>
                <th scope="col">{t('doctor')}</th>
                <th scope="col">{t('patient')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{t('connectedNow')}</th>
                <th scope="col">{t('duration')}</th>
                <th scope="col">{t('actions')}</th>
              </tr>
            </thead>
            <tbody>
              {doctors !== undefined && consultations.length === 0 ? (
                <tr>
                  <td colSpan={7}>{t('noConsultationsYet')}</td>
                </tr>
              ) : null}
              {consultations.map((c) => (
                <tr key={c.id} data-consultation-id={c.id} data-status={c.status}>
                  <td>{formatTime(c.scheduledAt, lang)}</td>
                  <td>{c.doctorName || '—'}</td>
                  <td>{c.patientName}</td>
                  <td>{statusLabel(t, c.status)}</td>
                  <td>{c.live.connected.map((p) => (p.reconnecting ? t('nameReconnecting', { name: p.name }) : p.name)).join(', ') || t('nobody')}</td>
                  <td data-testid="duration">{c.durationMs !== undefined ? formatDuration(c.durationMs) : '—'}</td>
                  <td>
                    {c.endable ? (
                      <button type="button" className="danger small" onClick={() => void act(() => api.endConsultation(c.id))}>
                        {t('end')} <span className="sr-only">{c.patientName}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
