import { I18nProvider } from './i18n.tsx';
import { StaffHome } from './pages/StaffHome.tsx';
import { DoctorConsultation } from './pages/DoctorConsultation.tsx';
import { PatientJoin } from './pages/PatientJoin.tsx';
import { PatientLinkInvalid } from './pages/patient/PatientLinkInvalid.tsx';
import { DoctorLinkInvalid } from './pages/doctor/DoctorLinkInvalid.tsx';
import { Enrol } from './pages/Enrol.tsx';
import { ConnectionCheck } from './pages/ConnectionCheck.tsx';

/**
 * Routes: "/" staff (sign-in, admin console, doctor dashboard);
 * "/consultation/<id>#k=…" the doctor's link; "/join/<id>#t=…&k=…" the
 * patient's; "/check/<id>#t=…" the patient's connection check; "/enrol#t=…" a doctor's enrolment link (set one's own password).
 * A malformed doctor or patient link gets a page saying so, for its reader
 * (a patient never lands on the staff sign-in).
 */
export function App() {
  const path = window.location.pathname;
  const doctor = /^\/consultation\/([a-z0-9]{16})\/?$/.exec(path)?.[1];
  const patient = /^\/join\/([a-z0-9]{16})\/?$/.exec(path)?.[1];
  const check = /^\/check\/([a-z0-9]{16})\/?$/.exec(path)?.[1];
  return (
    <I18nProvider>
      {doctor ? (
        <DoctorConsultation consultationId={doctor} />
      ) : patient ? (
        <PatientJoin consultationId={patient} />
      ) : check ? (
        <ConnectionCheck consultationId={check} />
      ) : /^\/join(\/|$)/.test(path) ? (
        <PatientLinkInvalid />
      ) : /^\/consultation(\/|$)/.test(path) ? (
        <DoctorLinkInvalid />
      ) : /^\/enrol\/?$/.test(path) ? (
        <Enrol />
      ) : (
        <StaffHome />
      )}
    </I18nProvider>
  );
}
