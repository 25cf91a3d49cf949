import { useState, type FormEvent } from 'react';
import { api, ApiError, type User } from '../../api/api-client.ts';
import { useI18n } from '../i18n.tsx';

export function LoginForm({ onSignedIn, intro }: { onSignedIn: (u: User) => void; intro?: string }) {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await api.login(email, password));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 429 ? t('tooManyAttempts') : t('signInFailed', { error: err instanceof Error ? err.message : '?' }));
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
      {error ? <p role="alert" className="banner danger">{error}</p> : null}
    </form>
  );
}
