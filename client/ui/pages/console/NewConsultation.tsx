import { useState, type FormEvent } from 'react';
import { api, type User } from '../../../api/api-client.ts';
import { useI18n } from '../../i18n.tsx';
import { errorText } from '../../errors.ts';

function localDateTimeValue(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * A new consultation. The console makes no link: the doctor's browser draws
 * the room secret and makes the patient's link (DoctorDashboard), so the
 * clinic admin never holds it. The confirmation names the patient and doctor
 * and goes away as soon as the next form is started. With no active
 * practitioner (`doctors` empty) it says to add one first; `undefined` while loading.
 */
export function NewConsultation({ doctors, onCreated }: { doctors: User[] | undefined; onCreated: () => void }) {
  const { t } = useI18n();
  const [doctorId, setDoctorId] = useState('');
  const [patientName, setPatientName] = useState('');
  const [when, setWhen] = useState(() => localDateTimeValue(new Date()));
  const [done, setDone] = useState<{ patient: string; doctor: string }>();
  const [error, setError] = useState<unknown>();
  const chosen = doctorId || doctors?.[0]?.id || '';
  /** Editing any field starts a new form: the previous confirmation leaves. */
  const edit = <T,>(set: (v: T) => void) => (v: T) => {
    setDone(undefined);
    set(v);
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    try {
      const { consultation } = await api.createConsultation({
        doctorId: chosen,
        patientName,
        scheduledAt: new Date(when).toISOString(),
      });
      setDone({ patient: consultation.patientName, doctor: doctors?.find((d) => d.id === consultation.doctorId)?.name ?? '' });
      setPatientName('');
      onCreated();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="new-consultation-title" className="card">
      <h3 id="new-consultation-title">{t('newConsultation')}</h3>
      {doctors === undefined ? null : doctors.length === 0 ? (
        <p className="banner warn" data-testid="add-doctor-first">
          {t('addDoctorFirst')}
        </p>
      ) : (
        <form onSubmit={submit} className="stack">
          <label htmlFor="c-doctor">{t('doctor')}</label>
          <select id="c-doctor" value={chosen} onChange={(e) => edit(setDoctorId)(e.target.value)} required>
            {doctors.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
          <label htmlFor="c-patient">{t('patientName')}</label>
          <input id="c-patient" required maxLength={64} value={patientName} onChange={(e) => edit(setPatientName)(e.target.value)} />
          <label htmlFor="c-when">{t('scheduledAt')}</label>
          <input id="c-when" type="datetime-local" required value={when} onChange={(e) => edit(setWhen)(e.target.value)} />
          <button type="submit" disabled={!chosen}>
            {t('createConsultation')}
          </button>
          {error !== undefined ? (
            <p role="alert" className="banner danger" data-testid="new-consultation-error">
              {errorText(t, error)}
            </p>
          ) : null}
        </form>
      )}
      {done ? (
        <p className="banner ok" role="status" data-testid="consultation-scheduled">
          {t('consultationScheduled', done)}
        </p>
      ) : null}
    </section>
  );
}
