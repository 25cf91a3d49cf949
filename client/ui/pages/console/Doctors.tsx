import { useState, type FormEvent } from 'react';
import { api, type EnrolmentLink, type User } from '../../../api/api-client.ts';
import { enrolmentLink } from '../../../api/enrolment-link.ts';
import { useI18n } from '../../i18n.tsx';
import { errorText } from '../../errors.ts';
import { formatTime } from '../../format.ts';
import { CopyField } from '../../CopyField.tsx';

/** An enrolment link just made, for whom. */
type Issued = { name: string; link: EnrolmentLink };

/**
 * The practitioners: list, disable/enable (`onToggle`), password reset, and
 * the form to add one. The admin never sets a password: a new account, or a
 * reset, gives an enrolment link (shown once) with which the doctor chooses
 * their own. Errors clear on the next action.
 */
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
  const [form, setForm] = useState({ email: '', name: '' });
  const [error, setError] = useState<unknown>();
  const [issued, setIssued] = useState<Issued>();
  const [resetting, setResetting] = useState<string>();
  const run = async (action: () => Promise<Issued>) => {
    setError(undefined);
    setIssued(undefined);
    try {
      setIssued(await action());
      onCreated();
    } catch (err) {
      setError(err);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const { user, enrolment } = await api.createDoctor(form);
      setForm({ email: '', name: '' });
      return { name: user.name, link: enrolment };
    });
  };
  const reset = (d: User) =>
    void run(async () => {
      setResetting(undefined);
      return { name: d.name, link: await api.resetDoctorPassword(d.id) };
    });
  return (
    <section aria-labelledby="doctors-title" className="card">
      <h3 id="doctors-title">{t('doctors')}</h3>
      <ul className="plain" data-testid="doctor-list">
        {doctors.map((d) => (
          <li key={d.id} className="stack" data-doctor-id={d.id}>
            <div className="row spread">
              <span>
                {d.name} <small>{d.email}</small> {d.disabled ? <em>({t('disabled')})</em> : null}
              </span>
              <span className="row">
                <button type="button" className="secondary small" onClick={() => setResetting(d.id)}>
                  {t('resetPassword')} <span className="sr-only">{d.name}</span>
                </button>
                <button type="button" className="secondary small" onClick={() => onToggle(d)}>
                  {d.disabled ? t('enable') : t('disable')} <span className="sr-only">{d.name}</span>
                </button>
              </span>
            </div>
            {resetting === d.id ? (
              <div className="banner warn stack" role="group" aria-label={t('resetPassword')} data-testid="confirm-reset">
                <p>{t('resetHelp')}</p>
                <div className="row">
                  <button type="button" className="danger small" onClick={() => reset(d)}>
                    {t('confirmReset')} <span className="sr-only">{d.name}</span>
                  </button>
                  <button type="button" className="secondary small" onClick={() => setResetting(undefined)}>
                    {t('cancel')}
                  </button>
                </div>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
      {issued ? <EnrolmentLinkBox issued={issued} /> : null}
      <form onSubmit={submit} className="stack" aria-label={t('addDoctor')}>
        <h4>{t('addDoctor')}</h4>
        <label htmlFor="doc-name">{t('fullName')}</label>
        <input id="doc-name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        <label htmlFor="doc-email">{t('email')}</label>
        <input id="doc-email" type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
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

/** The enrolment link to hand over, once: who it is for and until when it works. */
function EnrolmentLinkBox({ issued }: { issued: Issued }) {
  const { t, lang } = useI18n();
  return (
    <section className="stack links" data-testid="enrolment" aria-labelledby="enrolment-title">
      <h4 id="enrolment-title">{t('enrolmentLinkFor', { name: issued.name })}</h4>
      <p className="banner warn">{t('enrolmentLinkHelp', { name: issued.name, time: formatTime(issued.link.expiresAt, lang) })}</p>
      <CopyField label={t('enrolmentLink')} value={enrolmentLink(window.location.origin, issued.link.token)} testId="enrolment-link" />
    </section>
  );
}
