import { useI18n, type StringKey } from '../../i18n.tsx';

/** Why a doctor link cannot open a call. */
export type DoctorStopReason = 'ended' | 'expired' | 'not-found' | 'forbidden' | 'invalid';

const TEXT: Record<DoctorStopReason, StringKey> = {
  ended: 'doctorLinkEnded',
  expired: 'doctorLinkExpired',
  'not-found': 'doctorLinkNotFound',
  forbidden: 'doctorLinkNotYours',
  invalid: 'doctorLinkInvalid',
};

/** What happened to this doctor link, and the way back to the dashboard — instead of a call screen. */
export function DoctorLinkStopped({ reason }: { reason: DoctorStopReason }) {
  const { t } = useI18n();
  return (
    <section className="card stack" data-testid="doctor-link-stopped" data-reason={reason}>
      <p role="alert">{t(TEXT[reason])}</p>
      <p>
        <a className="button" href="/">
          {t('backToDashboard')}
        </a>
      </p>
    </section>
  );
}
