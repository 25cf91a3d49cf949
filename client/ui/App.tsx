import { I18nProvider } from './i18n.tsx';
import { StaffHome } from './pages/StaffHome.tsx';
import { DoctorConsultation } from './pages/DoctorConsultation.tsx';
import { PatientJoin } from './pages/PatientJoin.tsx';

/**
 * Routes: "/" staff (sign-in, admin console, doctor dashboard);
 * "/consultation/<id>#k=…" the doctor's link; "/join/<id>#t=…&k=…" the patient's.
 */
export function App() {
  const path = window.location.pathname;
  const doctor = /^\/consultation\/([a-z0-9]{16})\/?$/.exec(path)?.[1];
  const patient = /^\/join\/([a-z0-9]{16})\/?$/.exec(path)?.[1];
  return (
    <I18nProvider>
      {doctor ? <DoctorConsultation consultationId={doctor} /> : patient ? <PatientJoin consultationId={patient} /> : <StaffHome />}
    </I18nProvider>
  );
}
