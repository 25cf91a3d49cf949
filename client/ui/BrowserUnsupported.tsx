import { useI18n } from './i18n.tsx';

/**
 * The page a browser without any frame-encryption API gets instead of the
 * device check (see client/e2ee/support.ts): it says so and which browsers to
 * use. It never asks for the camera, so no call can start, encrypted or not.
 */
export function BrowserUnsupported() {
  const { t } = useI18n();
  return (
    <section role="alert" className="card banner danger" data-testid="browser-unsupported">
      <h2>{t('browserUnsupportedTitle')}</h2>
      <p>{t('browserUnsupportedText')}</p>
    </section>
  );
}
