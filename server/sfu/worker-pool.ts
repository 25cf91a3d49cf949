// One mediasoup worker per core; rooms are spread over them round-robin.
// A worker that dies (crash, SIGKILL, out of memory) is replaced at once: the
// server keeps running, calls on the other workers notice nothing, and the
// rooms that lived on the dead one are moved by their registry (each Router
// reports 'workerclose'; see RoomRegistry).
//
// With one media port per worker (MediaListen 'server'), each worker owns a
// WebRtcServer on base + its index; the replacement of a dead worker opens
// its own on the same port once the dead process has let go of it (a start
// that fails, e.g. on a port still in use, is retried).
import type { Logger } from 'pino';
import mediasoup, { type types } from './mediasoup.ts';
import { webRtcServerOptions, type MediaListen } from './media-listen.ts';

export interface WorkerPoolOptions {
  size: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  /** A WebRtcServer per worker when `mode` is 'server'; none otherwise (transports get ports of their own). */
  listen?: MediaListen;
  logger: Logger;
  /** Delay before retrying a replacement that failed to start (ms). */
  respawnRetryMs?: number;
}

export class WorkerPool {
  private next = 0;
  private closed = false;
  /** Workers that died and were replaced since start (ops, tests). */
  restarts = 0;
  private readonly spawning = new Set<Promise<void>>();

  private constructor(
    private readonly workers: (types.Worker | undefined)[],
    private readonly opts: WorkerPoolOptions,
  ) {}

  /** Starts `opts.size` workers. Throws if one cannot start (a broken install should fail loudly). */
  static async create(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(new Array<types.Worker | undefined>(opts.size).fill(undefined), opts);
    for (let i = 0; i < opts.size; i++) pool.workers[i] = await pool.spawn(i);
    return pool;
  }

  /** The next live worker, round-robin. Throws when none is alive (all died at once and none restarted yet). */
  nextWorker(): types.Worker {
    for (let tries = 0; tries < this.workers.length; tries++) {
      const worker = this.workers[this.next % this.workers.length];
      this.next++;
      if (worker && !worker.closed) return worker;
    }
    throw new Error('no live SFU worker');
  }

  /**
   * A live worker, waiting for a replacement to start when none is alive
   * (a pool of one whose worker just died). Throws after `timeoutMs`.
   */
  async liveWorker(timeoutMs = 10_000): Promise<types.Worker> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return this.nextWorker();
      } catch (err) {
        if (this.closed || Date.now() > deadline) throw err;
      }
      // The 'died' event (which starts the replacement) may come just after
      // the routers learnt that their worker closed: yield, then wait for it.
      await new Promise((r) => setTimeout(r, 20));
      await Promise.allSettled([...this.spawning]);
    }
  }

  /** The live workers, with their slot in the pool (ops: metrics). */
  liveWorkers(): { index: number; worker: types.Worker }[] {
    const out: { index: number; worker: types.Worker }[] = [];
    this.workers.forEach((worker, index) => {
      if (worker && !worker.closed) out.push({ index, worker });
    });
    return out;
  }

  /** Process ids of the live workers (tests, ops). */
  get pids(): number[] {
    return this.workers.filter((w): w is types.Worker => !!w && !w.closed).map((w) => w.pid);
  }

  get size(): number {
    return this.workers.length;
  }

  close(): void {
    this.closed = true;
    for (const w of this.workers) w?.close();
  }

  /**
   * Starts worker number `index` and, in 'server' mode, its WebRtcServer
   * (kept in `worker.appData.webRtcServer`). Throws (after closing the new
   * worker) when the server cannot listen, e.g. its port is taken.
   */
  private async spawn(index: number): Promise<types.Worker> {
    const worker = await mediasoup.createWorker({
      logLevel: 'warn',
      rtcMinPort: this.opts.rtcMinPort,
      rtcMaxPort: this.opts.rtcMaxPort,
    });
    if (this.opts.listen?.mode === 'server') {
      try {
        const webRtcServer = await worker.createWebRtcServer(webRtcServerOptions(this.opts.listen, index));
        worker.appData = { ...worker.appData, webRtcServer };
      } catch (err) {
        worker.close();
        throw new Error(`SFU worker ${index}: cannot listen for media (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    worker.on('died', (err) => {
      this.opts.logger.error({ pid: worker.pid, err: err.message }, 'mediasoup worker died; replacing it');
      if (this.workers[index] === worker) this.workers[index] = undefined;
      this.restarts++;
      this.replace(index);
    });
    return worker;
  }

  private replace(index: number): void {
    if (this.closed) return;
    const attempt: Promise<void> = this.spawn(index).then(
      (w) => {
        if (this.closed) w.close();
        else this.workers[index] = w;
      },
      (err: unknown) => {
        this.opts.logger.error({ err: String(err) }, 'could not start a replacement SFU worker; retrying');
        setTimeout(() => this.replace(index), this.opts.respawnRetryMs ?? 1000).unref();
      },
    );
    this.spawning.add(attempt);
    void attempt.finally(() => this.spawning.delete(attempt));
  }
}
