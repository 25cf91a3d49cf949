import { useEffect, useState } from 'react';
import type { E2eeManager } from '../../e2ee/e2ee-manager.ts';
import type { E2eeStats } from '../../e2ee/worker-messages.ts';
import { useI18n } from '../i18n.tsx';

export function useE2eeStats(e2ee: E2eeManager | undefined, everyMs = 1000): E2eeStats | undefined {
  const [stats, setStats] = useState<E2eeStats>();
  useEffect(() => {
    if (!e2ee) return;
    let live = true;
    const tick = () => void e2ee.stats().then((s) => live && setStats(s));
    tick();
    const timer = setInterval(tick, everyMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [e2ee, everyMs]);
  return stats;
}

/** Says plainly whether media is protected, and never claims more than the counters show. */
export function E2eeBanner({ stats }: { stats: E2eeStats | undefined }) {
  const { t } = useI18n();
  if (!stats || stats.sender.kid !== undefined) return null;
  return (
    <p className="notice warn" role="status" data-testid="e2ee-waiting">
      {t('waitingKeys')}
    </p>
  );
}

export function E2eeDebugPanel({ stats, names }: { stats: E2eeStats | undefined; names: Record<string, string> }) {
  const { t } = useI18n();
  if (!stats) return null;
  return (
    <details className="debug" data-testid="e2ee-debug">
      <summary>{t('encryptionDetails')}</summary>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('colParticipant')}</th>
            <th scope="col">{t('colEncrypted')}</th>
            <th scope="col">{t('colDecrypted')}</th>
            <th scope="col">{t('colNoKey')}</th>
            <th scope="col">{t('colFailed')}</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">{t('youKey', { kid: stats.sender.kid?.toString() ?? t('none') })}</th>
            <td>{stats.sender.encrypted}</td>
            <td>—</td>
            <td>{stats.sender.droppedNoKey}</td>
            <td>—</td>
          </tr>
          {Object.entries(stats.receivers).map(([peerId, r]) => (
            <tr key={peerId}>
              <th scope="row">{names[peerId] ?? peerId.slice(0, 8)}</th>
              <td>—</td>
              <td>{r.decrypted}</td>
              <td>{r.droppedNoKey}</td>
              <td>{r.failedAuth + r.wrongSender + r.malformed}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
