import { useEffect, useState, type FormEvent } from 'react';
import { api, type EnrolmentCheckAnswer } from '../../api/api-client.ts';
import { readEnrolmentToken } from '../../api/enrolment-link.ts';
import { LanguageSwitch, useI18n } from '../i18n.tsx';
import { errorText } from '../errors.ts';

/**
 * `/enrol#t=<token>`: a doctor chooses their own password with the one-time
 * link the clinic gave them (the admin never knows it), then lands signed in
 * on their dashboard. A used, replaced or expired link says so.
 */
export function Enrol() {
  const { t } = useI18n();
  const [token] = useState(() => readEnrolmentToken(window.location.hash));
  const [check, setCheck] = useState<EnrolmentCheckAnswer | { state: 'failed'; error: unknown }>();
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!token) return setCheck({ state: 'invalid' });
    api.enrolmentCheck(token).then(setCheck, (err: unknown) => setCheck({ state: 'failed', error: err }));
  }, [token]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!token || password !== again) return;
    setBusy(true);
    setError(undefined);
    try {
      await api.enrol(token, password);
      window.location.assign('/');
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const differ = again.length > 0 && password !== again;
  return (
    <main className="page narrow" data-testid="enrol" data-state={check?.state ?? 'checking'}>
      <header className="app-header">
        <h1>Confide</h1>
        <LanguageSwitch />
      </header>
      {check === undefined ? null : check.state === 'invalid' ? (
        <p role="alert" className="banner danger" data-testid="enrol-invalid">
          {t('enrolInvalid')}
        </p>
      ) : check.state === 'failed' ? (
        <p role="alert" className="banner danger">
          {errorText(t, check.error)}
        </p>
      ) : (
        <form onSubmit={submit} className="stack card" aria-labelledby="enrol-title">
          <h2 id="enrol-title">{t('enrolTitle')}</h2>
          <p>{t('enrolFor', { name: check.name, email: check.email })}</p>
          <p>{t('enrolHint')}</p>
          {/* For password managers: the account this password belongs to. */}
          <input type="email" autoComplete="username" value={check.email} readOnly hidden />
          <label htmlFor="enrol-password">{t('newPassword')}</label>
          <input
            id="enrol-password"
            type="password"
            autoComplete="new-password"
            minLength={12}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <label htmlFor="enrol-again">{t('repeatPassword')}</label>
          <input
            id="enrol-again"
            type="password"
            autoComplete="new-password"
            required
            aria-invalid={differ}
            value={again}
            onChange={(e) => setAgain(e.target.value)}
          />
          {differ ? <p className="banner warn">{t('passwordsDiffer')}</p> : null}
          <button type="submit" disabled={busy || differ}>
            {t('setPassword')}
          </button>
          {error !== undefined ? (
            <p role="alert" className="banner danger" data-testid="enrol-error">
              {errorText(t, error)}
            </p>
          ) : null}
        </form>
      )}
    </main>
  );
}
