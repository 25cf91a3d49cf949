// Prometheus metrics (prom-client), one registry per server: counts only —
// rooms, participants, transports, SFU workers' CPU and restarts, connection
// events, and the decrypt failures browsers report. Never an id, a name, a
// key or any content: a label is at most a worker's index or an event kind.
import client from 'prom-client';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import type { Room } from '../rooms/room.ts';
import type { WorkerPool } from '../sfu/worker-pool.ts';
import { MAX_DECRYPT_FAILURES_PER_REPORT } from '../../shared/protocol/signalling.ts';

/** A participant's connection: dropped, back within the grace period, or given up. */
export type ConnectionEvent = 'connection_lost' | 'reconnected' | 'timed_out';


export class Metrics {
  readonly registry = new client.Registry();
  private readonly connections: client.Counter<'event'>;
  private readonly decryptFailures: client.Counter;
  private readonly decryptReports: client.Counter;

  /** Gauges read `rooms` and `pool` when scraped; counters are fed by the other methods. */
  constructor(rooms: RoomRegistry, pool: WorkerPool) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: 'confide_process_' });
    // Plain gauges, each read from the rooms or the pool when scraped.
    const sumOverRooms = (count: (r: Room) => number) => () => rooms.all().reduce((n, r) => n + count(r), 0);
    const gauges: [name: string, help: string, read: () => number][] = [
      ['confide_rooms', 'Consultation rooms open on the SFU', () => rooms.all().length],
      ['confide_peers', 'Participants in rooms (including those reconnecting)', sumOverRooms((r) => r.peerCount)],
      ['confide_peers_reconnecting', 'Participants whose signalling dropped and whose place is held', sumOverRooms((r) => r.reconnectingPeers().length)],
      ['confide_transports', 'WebRTC transports held by rooms', sumOverRooms((r) => r.transportCount)],
      ['confide_sfu_workers', 'Live SFU worker processes', () => pool.pids.length],
      ['confide_sfu_worker_restarts', 'SFU workers that died and were replaced since start', () => pool.restarts],
      ['confide_rooms_moved', 'Rooms moved to another SFU worker after theirs died, since start', () => rooms.moved],
    ];
    for (const [name, help, read] of gauges) {
      new client.Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    }
    new client.Gauge<'worker'>({
      name: 'confide_sfu_worker_cpu_seconds',
      help: 'CPU time (user + system) of each live SFU worker process, by pool slot',
      labelNames: ['worker'],
      registers,
      async collect() {
        this.reset();
        for (const { index, worker } of pool.liveWorkers()) {
          try {
            const u = await worker.getResourceUsage(); // ru_utime, ru_stime: ms
            this.set({ worker: String(index) }, (u.ru_utime + u.ru_stime) / 1000);
          } catch {
            // It died between listing and asking: it has no CPU time to report.
          }
        }
      },
    });
    this.connections = new client.Counter({
      name: 'confide_connection_events_total',
      help: 'Participants whose connection dropped (connection_lost), came back within the grace period (reconnected), or did not (timed_out)',
      labelNames: ['event'],
      registers,
    });
    for (const event of ['connection_lost', 'reconnected', 'timed_out'] as const) this.connections.inc({ event }, 0);
    this.decryptFailures = new client.Counter({
      name: 'confide_decrypt_failures_reported_total',
      help: 'Media frames browsers reported they could not authenticate or decrypt (counts only)',
      registers,
    });
    this.decryptReports = new client.Counter({
      name: 'confide_decrypt_failure_reports_total',
      help: 'Decrypt-failure reports received from browsers',
      registers,
    });
  }

  connection(event: ConnectionEvent): void {
    this.connections.inc({ event });
  }

  /** A browser's report: `failures` frames it dropped since its last report (clamped to 0..MAX_DECRYPT_FAILURES_PER_REPORT, the protocol's bound). */
  decryptFailuresReported(failures: number): void {
    this.decryptReports.inc();
    this.decryptFailures.inc(Math.max(0, Math.min(MAX_DECRYPT_FAILURES_PER_REPORT, Math.floor(failures))));
  }

  /** The Prometheus text exposition (format 0.0.4), and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
