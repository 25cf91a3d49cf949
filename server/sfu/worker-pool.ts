// One mediasoup worker per core; rooms are spread over them round-robin.
import type { Logger } from 'pino';
import mediasoup, { type types } from './mediasoup.ts';

export interface WorkerPoolOptions {
  size: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  logger: Logger;
}

export class WorkerPool {
  private next = 0;
  private constructor(private readonly workers: types.Worker[]) {}

  static async create(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const workers: types.Worker[] = [];
    for (let i = 0; i < opts.size; i++) {
      const worker = await mediasoup.createWorker({
        logLevel: 'warn',
        rtcMinPort: opts.rtcMinPort,
        rtcMaxPort: opts.rtcMaxPort,
      });
      // A dead worker takes its rooms with it; exit so a supervisor restarts
      // us rather than serve calls that silently carry no media.
      worker.on('died', (err) => {
        opts.logger.fatal({ pid: worker.pid, err: err.message }, 'mediasoup worker died');
        process.exit(1);
      });
      workers.push(worker);
    }
    return new WorkerPool(workers);
  }

  nextWorker(): types.Worker {
    const worker = this.workers[this.next % this.workers.length];
    this.next++;
    if (!worker) throw new Error('worker pool is empty');
    return worker;
  }

  get size(): number {
    return this.workers.length;
  }

  close(): void {
    for (const w of this.workers) w.close();
  }
}
