import { LanguageSwitch } from '../../i18n.tsx';
import { DoctorLinkStopped } from './DoctorLinkStopped.tsx';

/** `/consultation/<anything malformed>`: says the link is not valid, with the way back to the dashboard. */
export function DoctorLinkInvalid() {
  return (
    <main className="page narrow">
      <header className="app-header">
        <h1>Confide</h1>
        <LanguageSwitch />
      </header>
      <DoctorLinkStopped reason="invalid" />
    </main>
  );
}
