import { useI18n, LanguageSwitch } from './i18n.tsx';
import { generateRoomSecret, roomSecretFragment } from '../../shared/crypto/room-secret.ts';

/** Makes a new room and its secret here, in the browser: the secret only ever lives in the link's #fragment. */
export function newRoomLink(origin: string = window.location.origin): string {
  const id = Array.from(crypto.getRandomValues(new Uint8Array(9)), (b) => 'abcdefghijkmnpqrstuvwxyz23456789'[b % 32]).join('');
  return `${origin}/room/${id}#${roomSecretFragment(generateRoomSecret())}`;
}

export function HomePage() {
  const { t } = useI18n();
  return (
    <main className="page narrow">
      <LanguageSwitch />
      <h1>Confide</h1>
      <p>{t('appTagline')}</p>
      <button type="button" onClick={() => window.location.assign(newRoomLink())}>
        {t('startConsultation')}
      </button>
    </main>
  );
}
