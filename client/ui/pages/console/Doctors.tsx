import { useState, type FormEvent } from 'react';
import { api, type User } from '../../../api/api-client.ts';
import { useI18n } from '../../i18n.tsx';
import { errorText } from '../../errors.ts';

/** The practitioners: list, disable/enable (`onToggle`), and the form to add one (its error clears on the next submit). */
export function Doctors({
  doctors,
  onCreated,
  onToggle,
}: {
  doctors: User[];
  onCreated: () => void;
  onToggle: (d: User) => void;
}) {
  const { t } = useI18n();
  const [form, setForm] = useState({ email: '', name: '', password: '' });
  const [error, setError] = useState<unknown>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      await api.createDoctor(form);
      setForm({ email: '', name: '', password: '' });
      onCreated();
    } catch (err) {
      setError(err);
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
            <button type="button" className="secondary small" onClick={() => onToggle(d)}>
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
        {error !== undefined ? (
          <p role="alert" className="banner danger">
            {errorText(t, error)}
          </p>
        ) : null}
      </form>
    </section>
  );
}
