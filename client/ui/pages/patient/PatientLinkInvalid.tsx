import { PageShell } from '../../PageShell.tsx';
import { PatientStopped } from './LinkCheck.tsx';

/** `/join/<anything malformed>`: a patient's page that says the link is not valid, and what to do. */
export function PatientLinkInvalid() {
  return (
    <PageShell step="stopped">
      <PatientStopped reason="invalid" />
    </PageShell>
  );
}
