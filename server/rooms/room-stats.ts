// What a room holds, as counters for tests and operations: SFU byte and
// packet counts per producer and consumer, and the number of transports,
// producers and consumers against what the SFU itself holds (no orphans).
import type { types } from '../sfu/mediasoup.ts';
import type { Peer } from './peer.ts';

export interface SfuStat {
  id: string;
  peerId: string;
  kind: string;
  bytes: number;
  packets: number;
}

export interface RoomCounts {
  peers: number;
  transports: number;
  producers: number;
  consumers: number;
  sfuTransports: number;
}

/** Byte counters from the SFU for every producer and consumer of `peers`. */
export async function sfuStats(peers: Iterable<Peer>): Promise<{ producers: SfuStat[]; consumers: SfuStat[] }> {
  const producers: SfuStat[] = [];
  const consumers: SfuStat[] = [];
  for (const peer of peers) {
    for (const { producer } of peer.producers.values()) {
      const s = await producer.getStats();
      producers.push({ id: producer.id, peerId: peer.id, kind: producer.kind, bytes: sum(s, 'byteCount'), packets: sum(s, 'packetCount') });
    }
    for (const consumer of peer.consumers.values()) {
      const s = (await consumer.getStats()).filter((x) => x.type === 'outbound-rtp');
      consumers.push({ id: consumer.id, peerId: peer.id, kind: consumer.kind, bytes: sum(s, 'byteCount'), packets: sum(s, 'packetCount') });
    }
  }
  return { producers, consumers };
}

/** What `peers` hold, and how many transports `router` holds. */
export async function roomCounts(peers: Iterable<Peer>, router: types.Router): Promise<RoomCounts> {
  const list = [...peers];
  let transports = 0;
  let producers = 0;
  let consumers = 0;
  for (const p of list) {
    transports += p.transports.size;
    producers += p.producers.size;
    consumers += p.consumers.size;
  }
  const dump = router.closed ? { transportIds: [] } : await router.dump();
  return { peers: list.length, transports, producers, consumers, sfuTransports: dump.transportIds.length };
}

function sum(stats: object[], key: 'byteCount' | 'packetCount'): number {
  let total = 0;
  for (const s of stats) total += Number((s as Record<string, unknown>)[key] ?? 0);
  return total;
}
