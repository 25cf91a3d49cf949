import { useEffect, useState } from 'react';
import { Signal } from 'lucide-react';
import type { CallSession } from '../../call/call-session.ts';
import { useI18n, type StringKey } from '../i18n.tsx';

type Quality = 'good' | 'fair' | 'poor' | 'lost' | 'unknown';

/** Round-trip time and loss from getStats, folded into one word. */
export function rateNetwork(rttMs: number | undefined, lossRatio: number | undefined): Quality {
  if (rttMs === undefined && lossRatio === undefined) return 'unknown';
  const rtt = rttMs ?? 0;
  const loss = lossRatio ?? 0;
  if (rtt < 150 && loss < 0.02) return 'good';
  if (rtt < 400 && loss < 0.08) return 'fair';
  return 'poor';
}

/**
 * The network word in the top bar, from the transports' stats every 2 s.
 * While the connection is down it says so (`lost`) instead of the last
 * rating, which a stale round-trip time would keep at "good".
 */
export function NetworkHint({ session, connected }: { session: CallSession; connected: boolean }) {
  const { t } = useI18n();
  const [measured, setQuality] = useState<Quality>('unknown');
  const quality: Quality = connected ? measured : 'lost';
  useEffect(() => {
    let last = { lost: 0, received: 0 };
    // A slow getStats must not overlap the next one: the loss ratio counts each packet once.
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      let rtt: number | undefined;
      let lost = 0;
      let received = 0;
      const reports = await session.transportStats().catch(() => []);
      busy = false;
      for (const report of reports) {
        report.forEach((s: Record<string, unknown>) => {
          if (s.type === 'candidate-pair' && s.nominated && typeof s.currentRoundTripTime === 'number') {
            rtt = Math.max(rtt ?? 0, s.currentRoundTripTime * 1000);
          }
          if (s.type === 'inbound-rtp') {
            lost += Number(s.packetsLost ?? 0);
            received += Number(s.packetsReceived ?? 0);
          }
        });
      }
      const dLost = lost - last.lost;
      const dReceived = received - last.received;
      last = { lost, received };
      setQuality(rateNetwork(rtt, dLost + dReceived > 0 ? dLost / (dLost + dReceived) : undefined));
    }, 2000);
    return () => clearInterval(timer);
  }, [session]);
  const text = t('network', { quality: t(`net_${quality}` as StringKey) });
  return (
    <span className={`badge net-${quality}`} data-testid="network-hint" data-quality={quality} title={text}>
      <Signal aria-hidden="true" size={14} /> <span className="nh-text">{text}</span>
    </span>
  );
}
