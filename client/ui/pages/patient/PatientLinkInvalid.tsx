import { LanguageSwitch } from '../../i18n.tsx';
import { PatientStopped } from './LinkCheck.tsx';

/** `/join/<anything malformed>`: a patient's page that says the link is not valid, and what to do. */
export function PatientLinkInvalid() {
  return (
    <main className="page narrow" data-step="stopped">
      <header className="app-header">
        <h1>Confide</h1>
        <LanguageSwitch />
      </header>
      <PatientStopped reason="invalid" />
    </main>
  );
}
