import { useRef, useState } from 'react';
import { api, type ConsultationView } from '../../api/api-client.ts';
import { doctorLink, patientLink, rememberedSecrets } from '../../call/invite-links.ts';
import { generateRoomSecret } from '../../../shared/crypto/room-secret.ts';
import { useI18n } from '../i18n.tsx';
import { errorText } from '../errors.ts';
import { formatTime, statusLabel } from '../format.ts';
import { CopyField } from '../CopyField.tsx';
import { usePolled } from '../use-polled.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** From the start of today (local time), the API's longest range: today and the next 30 days. */
function upcoming(now = new Date()): { from: number; to: number } {
  const from = new Date(now).setHours(0, 0, 0, 0);
  return { from, to: from + 31 * DAY_MS };
}

/**
 * The doctor's consultations, today and the next 30 days, refreshed every 5 s.
 * The doctor invites the patient from here: this browser draws the room
 * secret (kept in localStorage to open the call later) and the server gives a
 * fresh patient token; the patient link is shown once, to send. So the
 * clinic admin, who scheduled the consultation, never holds the key. A
 * browser that already has the key keeps it ("new patient link" only replaces
 * the token); ended and expired consultations cannot be opened.
 */
export function DoctorDashboard() {
  const { t, lang } = useI18n();
  const [list, setList] = useState<ConsultationView[]>();
  const [invited, setInvited] = useState<{ id: string; link: string }>();
  const [error, setError] = useState<{ id: string; error: unknown }>();
  // Only the newest answer is shown: a slow poll must not bring back an older list.
  const load = usePolled(
    () => api.myConsultations(upcoming()),
    (l) => {
      // An ended consultation's secret has no use left: this browser forgets it.
      for (const c of l) if (c.status === 'ended') rememberedSecrets.forget(c.id);
      setList(l);
    },
    () => setList((l) => l ?? []),
    5000,
  );

  const inviting = useRef(new Set<string>());
  const invite = async (c: ConsultationView) => {
    // One invitation at a time per consultation: each one retires the previous token.
    if (inviting.current.has(c.id)) return;
    inviting.current.add(c.id);
    setInvited(undefined);
    setError(undefined);
    try {
      // The key is drawn and kept before the request, so every link of this consultation carries the same one.
      let secret = rememberedSecrets.load(c.id);
      if (!secret) {
        secret = generateRoomSecret();
        // Kept until the links expire (or the consultation ends), never for ever.
        rememberedSecrets.save(c.id, secret, c.expiresAt);
      }
      const token = await api.createInvitation(c.id);
      setInvited({ id: c.id, link: patientLink(window.location.origin, c.id, token, secret) });
    } catch (err) {
      setError({ id: c.id, error: err });
    } finally {
      inviting.current.delete(c.id);
    }
    void load();
  };

  if (!list) return null;
  return (
    <section className="card" aria-labelledby="consultations-title">
      <h2 id="consultations-title">{t('myConsultations')}</h2>
      {list.length === 0 ? <p>{t('noUpcomingConsultations')}</p> : null}
      <ul className="plain" data-testid="doctor-consultations">
        {list.map((c) => {
          const secret = rememberedSecrets.load(c.id);
          return (
            <li key={c.id} className="stack" data-consultation-id={c.id}>
              <div className="row spread">
                <span>
                  <strong>{formatTime(c.scheduledAt, lang)}</strong> {c.patientName} — {statusLabel(t, c.status)}
                  {c.live.waiting && c.status !== 'waiting' ? ` (${t('status_waiting')})` : ''}
                </span>
                {!c.endable ? null : (
                  <span className="row">
                    <button type="button" className="secondary small" onClick={() => void invite(c)}>
                      {secret ? t('newPatientLink') : t('invitePatient')} <span className="sr-only">{c.patientName}</span>
                    </button>
                    {secret ? (
                      <a className="button" href={doctorLink(window.location.origin, c.id, secret)}>
                        {t('open')} <span className="sr-only">{c.patientName}</span>
                      </a>
                    ) : null}
                  </span>
                )}
              </div>
              {c.endable && !secret ? <small>{t('inviteHere')}</small> : null}
              {invited?.id === c.id ? (
                <section className="stack links" data-testid="patient-invitation" aria-label={t('patientLinkFor', { patient: c.patientName })}>
                  <p className="banner warn">{t('patientLinkHelp')}</p>
                  <CopyField label={t('patientLinkFor', { patient: c.patientName })} value={invited.link} testId="patient-link" />
                </section>
              ) : null}
              {error?.id === c.id ? (
                <p role="alert" className="banner danger">
                  {errorText(t, error.error)}
                </p>
              ) : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
