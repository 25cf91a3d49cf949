/**
 * SFU capacity benchmark (issue 14, item 3): N concurrent synthetic 1:1
 * consultations (scripts/bench/sfu-load.ts: real mediasoup workers, SFrame-
 * sealed VP8 + Opus at ≈ 600 + 40 kbit/s each way, all on 127.0.0.1) for
 * N = 1, 5, 10, 20, 40, … until the first step with ≥ 1 % loss or a process
 * at ≥ 80 % of a core, or CONFIDE_BENCH_CAPACITY_MAX_S of wall time.
 *
 * Knobs: CONFIDE_BENCH_CAPACITY_N (steps, comma-separated), CONFIDE_BENCH_CAPACITY_S
 * (measured seconds per step), CONFIDE_BENCH_CAPACITY_WORKERS (default: one per core).
 */
import os from 'node:os';
import { SfuLoad, type WindowStats } from './bench/sfu-load.ts';
import { CpuMeter, fmt, quantile, rssBytes } from './bench/proc.ts';

const list = (v: string | undefined, dflt: number[]) => (v ? v.split(',').map(Number).filter((n) => n > 0) : dflt);
const STEPS = list(process.env.CONFIDE_BENCH_CAPACITY_N, [1, 5, 10, 20, 40, 60, 80, 100, 120, 150, 200]);
const SECONDS = Number(process.env.CONFIDE_BENCH_CAPACITY_S ?? 10);
const MAX_WALL_S = Number(process.env.CONFIDE_BENCH_CAPACITY_MAX_S ?? 400);
const WORKERS = Number(process.env.CONFIDE_BENCH_CAPACITY_WORKERS ?? os.availableParallelism());
/** Warm-up before each window: longer than the 2 s keyframe loop, so every video consumer has started. */
const WARMUP_MS = 3000;
export const LOSS_LIMIT = 1; // %
export const CPU_LIMIT = 80; // % of one core

export interface CapacityRow {
  n: number;
  /** % of one core: the busiest SFU worker, all workers together, and the bench process (senders + receivers). */
  workerMaxCpu: number;
  workerSumCpu: number;
  senderCpu: number;
  /** Resident memory of all workers together (bytes). */
  workerRss: number;
  lossPct: number;
  delayP50: number;
  delayP99: number;
  checked: number;
  badTags: number;
  /** Payload + RTP header bit rate sent by all participants (bit/s). */
  sentBps: number;
  silentStreams: number;
  /** Which limit this step hit, if any. */
  limit: string | undefined;
}

export interface CapacityResult {
  workers: number;
  seconds: number;
  baseRss: number;
  rows: CapacityRow[];
}

function limitOf(r: Omit<CapacityRow, 'limit'>): string | undefined {
  const hit: string[] = [];
  if (r.lossPct >= LOSS_LIMIT) hit.push(`loss ${fmt(r.lossPct, 2)} %`);
  if (r.workerMaxCpu >= CPU_LIMIT) hit.push(`SFU worker ${fmt(r.workerMaxCpu, 0)} % CPU`);
  if (r.senderCpu >= CPU_LIMIT) hit.push(`synthetic senders ${fmt(r.senderCpu, 0)} % CPU`);
  if (r.silentStreams > 0) hit.push(`${r.silentStreams} silent streams`);
  if (r.badTags > 0) hit.push(`${r.badTags} frames failed their SFrame tag`);
  return hit.length ? hit.join(', ') : undefined;
}

export async function benchCapacity(steps = STEPS, seconds = SECONDS): Promise<CapacityResult> {
  const load = await SfuLoad.create(WORKERS);
  const started = Date.now();
  const baseRss = load.pool.pids.reduce((a, p) => a + rssBytes(p), 0);
  const rows: CapacityRow[] = [];
  try {
    for (const n of steps) {
      if ((Date.now() - started) / 1000 > MAX_WALL_S) break;
      while (load.consultations < n) await load.addConsultation();
      await new Promise((r) => setTimeout(r, WARMUP_MS));
      const workers = new CpuMeter(() => load.pool.pids);
      workers.start();
      const self = process.cpuUsage();
      const t0 = performance.now();
      load.startWindow();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const silent = load.silentStreams();
      const w: WindowStats = load.endWindow();
      const selfUs = process.cpuUsage(self);
      const cpu = [...workers.percent().values()];
      const row = {
        n,
        workerMaxCpu: Math.max(...cpu),
        workerSumCpu: cpu.reduce((a, b) => a + b, 0),
        senderCpu: ((selfUs.user + selfUs.system) / 10) / (performance.now() - t0),
        workerRss: load.pool.pids.reduce((a, p) => a + rssBytes(p), 0),
        lossPct: w.expected ? (100 * Math.max(0, w.expected - w.received)) / w.expected : NaN,
        delayP50: quantile(w.delays, 0.5),
        delayP99: quantile(w.delays, 0.99),
        checked: w.checked,
        badTags: w.badTags,
        sentBps: (w.sentBytes * 8) / w.seconds,
        silentStreams: silent,
      };
      const limit = limitOf(row);
      rows.push({ ...row, limit });
      if (limit) break;
    }
  } finally {
    await load.close();
  }
  return { workers: WORKERS, seconds, baseRss, rows };
}

const mb = (b: number) => fmt(b / 2 ** 20, 1);

export function printCapacity(r: CapacityResult): void {
  console.log(
    `${r.workers} SFU workers; each step ${r.seconds} s after ${WARMUP_MS / 1000} s warm-up; CPU in % of one core; ` +
      `stops at loss ≥ ${LOSS_LIMIT} % or a process ≥ ${CPU_LIMIT} %.\n`,
  );
  console.log('| N consultations | consumers | busiest worker CPU % | all workers CPU % | worker CPU % per consultation | senders CPU % | worker RSS MB | ΔRSS per consultation MB | loss % | delay p50 ms | delay p99 ms | frames opened / bad tags | sent Mbit/s | per participant kbit/s | limit |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const x of r.rows) {
    console.log(
      `| ${x.n} | ${4 * x.n} | ${fmt(x.workerMaxCpu)} | ${fmt(x.workerSumCpu)} | ${fmt(x.workerSumCpu / x.n, 2)} | ${fmt(x.senderCpu)} | ${mb(x.workerRss)} | ` +
        `${fmt((x.workerRss - r.baseRss) / x.n / 2 ** 20, 2)} | ${fmt(x.lossPct, 3)} | ${fmt(x.delayP50, 2)} | ${fmt(x.delayP99, 2)} | ${x.checked} / ${x.badTags} | ` +
        `${fmt(x.sentBps / 1e6, 1)} | ${fmt(x.sentBps / (2 * x.n) / 1000, 0)} | ${x.limit ?? 'ok'} |`,
    );
  }
  const ok = r.rows.filter((x) => !x.limit);
  const broke = r.rows.find((x) => x.limit);
  console.log(`\nLargest N with < ${LOSS_LIMIT} % loss and < ${CPU_LIMIT} % CPU: ${ok.at(-1)?.n ?? 'none'}`);
  if (broke) {
    const first = broke.senderCpu >= broke.workerMaxCpu ? 'the synthetic senders (bench process)' : 'an SFU worker';
    console.log(`First limit at N = ${broke.n}: ${broke.limit}; the busier process there: ${first}.`);
  } else console.log('No limit reached within the steps run.');
}
