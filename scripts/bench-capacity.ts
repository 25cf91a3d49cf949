/**
 * SFU capacity benchmark (issue 14, item 3): N concurrent synthetic 1:1
 * consultations on one node process owning a WorkerPool of one mediasoup
 * worker per core (as the server starts by default), SFrame-sealed VP8 +
 * Opus at ≈ 600 + 40 kbit/s each way, all on 127.0.0.1 (scripts/bench/
 * sfu-cluster.ts), for N = 1, 5, 10, 20, 40, … until the first step with
 * ≥ 1 % loss, a process at ≥ 80 % of a core or the machine at ≥ 95 % of
 * its cores, or CONFIDE_BENCH_CAPACITY_MAX_S
 * of wall time.
 *
 * Knobs: CONFIDE_BENCH_CAPACITY_N (steps, comma-separated), CONFIDE_BENCH_CAPACITY_S
 * (measured seconds per step), CONFIDE_BENCH_CAPACITY_WORKERS (default: one per
 * core), CONFIDE_BENCH_GENERATORS (synthetic-participant processes, 2),
 * CONFIDE_BENCH_SAMPLE_EVERY (receive and check one consultation in this many, 10).
 */
import os from 'node:os';
import { fmt } from './bench/proc.ts';
import { CPU_LIMIT, LOSS_LIMIT, MACHINE_LIMIT, WARMUP_MS, busiest, printSteps, runSteps, verdict, type StepRun } from './bench/sfu-steps.ts';

const list = (v: string | undefined, dflt: number[]) => (v ? v.split(',').map(Number).filter((n) => n > 0) : dflt);
const STEPS = list(process.env.CONFIDE_BENCH_CAPACITY_N, [1, 5, 10, 20, 40, 60, 80, 100, 120, 150, 200, 250, 300]);
const SECONDS = Number(process.env.CONFIDE_BENCH_CAPACITY_S ?? 10);
const MAX_WALL_S = Number(process.env.CONFIDE_BENCH_CAPACITY_MAX_S ?? 400);
const WORKERS = Number(process.env.CONFIDE_BENCH_CAPACITY_WORKERS ?? os.availableParallelism());
export const GENERATORS = Number(process.env.CONFIDE_BENCH_GENERATORS ?? 2);
export const SAMPLE_EVERY = Number(process.env.CONFIDE_BENCH_SAMPLE_EVERY ?? 10);

export function benchCapacity(steps = STEPS, seconds = SECONDS): Promise<StepRun> {
  return runSteps({ nodes: 1, workersPerNode: WORKERS, generators: GENERATORS, sampleEvery: SAMPLE_EVERY }, steps, seconds, MAX_WALL_S);
}

/** How the steps were run: one line, shared with bench-nodes.ts. */
export function describeRun(r: StepRun): string {
  const o = r.options;
  return (
    `${o.nodes} node process${o.nodes > 1 ? 'es' : ''} × ${o.workersPerNode} SFU worker${o.workersPerNode > 1 ? 's' : ''}; ${o.generators} generator processes; ` +
    `consultations received end to end: 1 in ${o.sampleEvery} (and the first 2), loss of all from mediasoup's counters; ` +
    `each step ${r.seconds} s after ${WARMUP_MS / 1000} s warm-up; CPU in % of one core; stops at loss ≥ ${LOSS_LIMIT} %, a process ≥ ${CPU_LIMIT} % or the machine ≥ ${MACHINE_LIMIT} % of its cores.`
  );
}

export function printCapacity(r: StepRun): void {
  console.log(`${describeRun(r)}\n`);
  printSteps(r);
  const { ok, broke } = verdict(r);
  console.log(`\nLargest N with < ${LOSS_LIMIT} % loss and < ${CPU_LIMIT} % CPU: ${ok?.n ?? 'none'}`);
  if (broke) console.log(`First limit at N = ${broke.n}: ${broke.limit}; busiest process there: ${busiest(broke)}; machine ${fmt(broke.machineCpu, 0)} % busy.`);
  else console.log(`No limit reached within the steps run; busiest process at the last step: ${r.steps.length ? busiest(r.steps.at(-1)!) : '–'}.`);
}
