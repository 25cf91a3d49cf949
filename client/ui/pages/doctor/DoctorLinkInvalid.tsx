import { PageShell } from '../../PageShell.tsx';
import { DoctorLinkStopped } from './DoctorLinkStopped.tsx';

/** `/consultation/<anything malformed>`: says the link is not valid, with the way back to the dashboard. */
export function DoctorLinkInvalid() {
  return (
    <PageShell>
      <DoctorLinkStopped reason="invalid" />
    </PageShell>
  );
}
