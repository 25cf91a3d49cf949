import { useState, type FormEvent } from 'react';
import { api, type User } from '../../api/api-client.ts';
import { useI18n } from '../i18n.tsx';
import { errorText } from '../errors.ts';

/** Staff sign-in; a failure is told by its code, in the page's language (never the server's wording). */
export function LoginForm({ onSignedIn, intro }: { onSignedIn: (u: User) => void; intro?: string }) {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await api.login(email, password));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="stack card" aria-labelledby="login-title">
      <h2 id="login-title">{t('staffSignIn')}</h2>
      {intro ? <p>{intro}</p> : null}
      <label htmlFor="login-email">{t('email')}</label>
      <input id="login-email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
      <label htmlFor="login-password">{t('password')}</label>
      <input id="login-password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      <button type="submit" disabled={busy}>
        {t('signIn')}
      </button>
      {error !== undefined ? (
        <p role="alert" className="banner danger" data-testid="login-error">
          {t('signInFailed', { reason: errorText(t, error) })}
        </p>
      ) : null}
    </form>
  );
}
