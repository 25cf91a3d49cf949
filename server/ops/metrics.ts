// Prometheus metrics (prom-client), one registry per server: counts only —
// rooms, participants, transports, SFU workers' CPU and restarts, connection
// events, and the decrypt failures browsers report. Never an id, a name, a
// key or any content: a label is at most a worker's index or an event kind.
import client from 'prom-client';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import type { WorkerPool } from '../sfu/worker-pool.ts';

/** A participant's connection: dropped, back within the grace period, or given up. */
export type ConnectionEvent = 'connection_lost' | 'reconnected' | 'timed_out';

/** Largest count one report may add (a hostile client cannot make the counter jump further per request). */
export const MAX_REPORTED_FAILURES = 10_000;

export class Metrics {
  readonly registry = new client.Registry();
  private readonly connections: client.Counter<'event'>;
  private readonly decryptFailures: client.Counter;
  private readonly decryptReports: client.Counter;

  /** Gauges read `rooms` and `pool` when scraped; counters are fed by the other methods. */
  constructor(rooms: RoomRegistry, pool: WorkerPool) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: 'confide_process_' });
    new client.Gauge({
      name: 'confide_rooms',
      help: 'Consultation rooms open on the SFU',
      registers,
      collect() {
        this.set(rooms.all().length);
      },
    });
    new client.Gauge({
      name: 'confide_peers',
      help: 'Participants in rooms (including those reconnecting)',
      registers,
      collect() {
        this.set(rooms.all().reduce((n, r) => n + r.peerCount, 0));
      },
    });
    new client.Gauge({
      name: 'confide_peers_reconnecting',
      help: 'Participants whose signalling dropped and whose place is held',
      registers,
      collect() {
        this.set(rooms.all().reduce((n, r) => n + r.reconnectingPeers().length, 0));
      },
    });
    new client.Gauge({
      name: 'confide_transports',
      help: 'WebRTC transports held by rooms',
      registers,
      collect() {
        this.set(rooms.all().reduce((n, r) => n + r.transportCount, 0));
      },
    });
    new client.Gauge({
      name: 'confide_sfu_workers',
      help: 'Live SFU worker processes',
      registers,
      collect() {
        this.set(pool.pids.length);
      },
    });
    new client.Gauge({
      name: 'confide_sfu_worker_restarts',
      help: 'SFU workers that died and were replaced since start',
      registers,
      collect() {
        this.set(pool.restarts);
      },
    });
    new client.Gauge({
      name: 'confide_rooms_moved',
      help: 'Rooms moved to another SFU worker after theirs died, since start',
      registers,
      collect() {
        this.set(rooms.moved);
      },
    });
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

  /** A browser's report: `failures` frames it dropped since its last report (clamped to 0..MAX_REPORTED_FAILURES). */
  decryptFailuresReported(failures: number): void {
    this.decryptReports.inc();
    this.decryptFailures.inc(Math.max(0, Math.min(MAX_REPORTED_FAILURES, Math.floor(failures))));
  }

  /** The Prometheus text exposition (format 0.0.4), and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
