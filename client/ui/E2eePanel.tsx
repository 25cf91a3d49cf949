import { useEffect, useState } from 'react';
import type { E2eeManager } from '../e2ee/e2ee-manager.ts';
import type { E2eeStats } from '../e2ee/worker-messages.ts';

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
  if (!stats) return null;
  if (stats.sender.kid === undefined) {
    return (
      <p className="banner warn" role="status" data-testid="e2ee-waiting">
        Waiting for encryption keys — your camera and microphone are not being sent.
      </p>
    );
  }
  return null;
}

export function E2eeDebugPanel({ stats, names }: { stats: E2eeStats | undefined; names: Record<string, string> }) {
  if (!stats) return null;
  return (
    <details className="debug" data-testid="e2ee-debug">
      <summary>Encryption details</summary>
      <table>
        <thead>
          <tr>
            <th scope="col">Participant</th>
            <th scope="col">Encrypted</th>
            <th scope="col">Decrypted</th>
            <th scope="col">No key</th>
            <th scope="col">Failed auth</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">You (key {stats.sender.kid?.toString() ?? 'none'})</th>
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
