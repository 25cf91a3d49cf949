import { useEffect, useState } from 'react';
import { api, type User } from '../../api/api-client.ts';
import { LanguageSwitch, useI18n } from '../i18n.tsx';
import { LoginForm } from './LoginForm.tsx';
import { AdminConsole } from './AdminConsole.tsx';
import { DoctorDashboard } from './DoctorDashboard.tsx';

/** "/": sign-in, then the clinic console (admin) or today's consultations (doctor). */
export function StaffHome() {
  const { t } = useI18n();
  const [user, setUser] = useState<User | null>();
  useEffect(() => {
    api.me().then(setUser, () => setUser(null));
  }, []);
  const signOut = async () => {
    await api.logout().catch(() => undefined);
    setUser(null);
  };
  return (
    <main className="page">
      <header className="app-header">
        <h1>Confide</h1>
        <div className="row">
          {user ? (
            <>
              <span>{user.name}</span>
              <button type="button" className="secondary" onClick={signOut}>
                {t('signOut')}
              </button>
            </>
          ) : null}
          <LanguageSwitch />
        </div>
      </header>
      {user === undefined ? null : user === null ? (
        <div className="narrow">
          <p>{t('appTagline')}</p>
          <LoginForm onSignedIn={setUser} />
        </div>
      ) : user.role === 'admin' ? (
        <AdminConsole />
      ) : (
        <DoctorDashboard />
      )}
    </main>
  );
}
