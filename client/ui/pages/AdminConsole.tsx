import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, type Consultation, type User } from '../../api/api-client.ts';
import { generateRoomSecret } from '../../../shared/crypto/room-secret.ts';
import { doctorLink, patientLink } from '../../call/invite-links.ts';
import { useI18n } from '../i18n.tsx';
import { CopyField } from '../CopyField.tsx';
import { formatDuration, formatTime, statusLabel } from '../format.ts';

/** The clinic admin: practitioners and consultations. Holds no media key and receives no content. */
export function AdminConsole() {
  const { t } = useI18n();
  const [doctors, setDoctors] = useState<User[]>([]);
  const [consultations, setConsultations] = useState<Consultation[]>([]);
  const [error, setError] = useState<string>();
  const refresh = useCallback(async () => {
    try {
      const [d, c] = await Promise.all([api.doctors(), api.consultations()]);
      setDoctors(d);
      setConsultations(c);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, []);
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), 3000);
    return () => clearInterval(timer);
  }, [refresh]);

  return (
    <div className="console">
      <h2>{t('adminConsole')}</h2>
      {error ? <p role="alert" className="banner danger">{error}</p> : null}
      <div className="grid-2">
        <Doctors doctors={doctors} onChange={refresh} />
        <NewConsultation doctors={doctors.filter((d) => !d.disabled)} onCreated={refresh} />
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
              {consultations.map((c) => (
                <tr key={c.id} data-consultation-id={c.id} data-status={c.status}>
                  <td>{formatTime(c.scheduledAt)}</td>
                  <td>{c.doctorName ?? '—'}</td>
                  <td>{c.patientName}</td>
                  <td>{statusLabel(t, c.status)}</td>
                  <td>{c.live?.connected.map((p) => p.name).join(', ') || t('nobody')}</td>
                  <td>{c.durationMs ? formatDuration(c.durationMs) : '—'}</td>
                  <td>
                    {c.status !== 'ended' ? (
                      <button type="button" className="danger small" onClick={() => void api.endConsultation(c.id).then(refresh)}>
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

function Doctors({ doctors, onChange }: { doctors: User[]; onChange: () => void }) {
  const { t } = useI18n();
  const [form, setForm] = useState({ email: '', name: '', password: '' });
  const [error, setError] = useState<string>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      await api.createDoctor(form);
      setForm({ email: '', name: '', password: '' });
      onChange();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <section aria-labelledby="doctors-title" className="card">
      <h3 id="doctors-title">{t('doctors')}</h3>
      <ul className="plain" data-testid="doctor-list">
        {doctors.map((d) => (
          <li key={d.id} className="row spread">
            <span>
              {d.name} <small>{d.email}</small> {d.disabled ? <em>({t('disabled')})</em> : null}
            </span>
            <button type="button" className="secondary small" onClick={() => void api.setDoctorDisabled(d.id, !d.disabled).then(onChange)}>
              {d.disabled ? t('enable') : t('disable')} <span className="sr-only">{d.name}</span>
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={submit} className="stack" aria-label={t('addDoctor')}>
        <h4>{t('addDoctor')}</h4>
        <label htmlFor="doc-name">{t('fullName')}</label>
        <input id="doc-name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        <label htmlFor="doc-email">{t('email')}</label>
        <input id="doc-email" type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        <label htmlFor="doc-password">{t('initialPassword')}</label>
        <input
          id="doc-password"
          type="password"
          autoComplete="new-password"
          minLength={10}
          required
          value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
        />
        <button type="submit">{t('create')}</button>
        {error ? <p role="alert" className="banner danger">{error}</p> : null}
      </form>
    </section>
  );
}

function localDateTimeValue(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function NewConsultation({ doctors, onCreated }: { doctors: User[]; onCreated: () => void }) {
  const { t } = useI18n();
  const [doctorId, setDoctorId] = useState('');
  const [patientName, setPatientName] = useState('');
  const [when, setWhen] = useState(() => localDateTimeValue(new Date()));
  const [links, setLinks] = useState<{ doctor: string; patient: string }>();
  const [error, setError] = useState<string>();
  const chosen = doctorId || doctors[0]?.id || '';
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      const { consultation, patientToken } = await api.createConsultation({
        doctorId: chosen,
        patientName,
        scheduledAt: new Date(when).toISOString(),
      });
      // The room secret is made here and only ever put in the links' #fragment.
      const secret = generateRoomSecret();
      const origin = window.location.origin;
      setLinks({
        doctor: doctorLink(origin, consultation.id, secret),
        patient: patientLink(origin, consultation.id, patientToken, secret),
      });
      secret.fill(0);
      setPatientName('');
      onCreated();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <section aria-labelledby="new-consultation-title" className="card">
      <h3 id="new-consultation-title">{t('newConsultation')}</h3>
      <form onSubmit={submit} className="stack">
        <label htmlFor="c-doctor">{t('doctor')}</label>
        <select id="c-doctor" value={chosen} onChange={(e) => setDoctorId(e.target.value)} required>
          {doctors.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
        <label htmlFor="c-patient">{t('patientName')}</label>
        <input id="c-patient" required maxLength={64} value={patientName} onChange={(e) => setPatientName(e.target.value)} />
        <label htmlFor="c-when">{t('scheduledAt')}</label>
        <input id="c-when" type="datetime-local" required value={when} onChange={(e) => setWhen(e.target.value)} />
        <button type="submit" disabled={!chosen}>
          {t('createConsultation')}
        </button>
        {error ? <p role="alert" className="banner danger">{error}</p> : null}
      </form>
      {links ? (
        <div className="stack links" data-testid="invite-links">
          <p className="banner warn">{t('linksOnce')}</p>
          <CopyField label={t('doctorLink')} value={links.doctor} testId="doctor-link" />
          <CopyField label={t('patientLink')} value={links.patient} testId="patient-link" />
        </div>
      ) : null}
    </section>
  );
}
