/**
 * Consultations per node as nodes are added (issue 16, "Bench"): 1, 2, 3
 * node processes on this machine, each owning its own mediasoup WorkerPool
 * (CONFIDE_BENCH_NODES_WORKERS workers each, default 1: a node on a one-core
 * host), with the synthetic load of the capacity bench (scripts/bench/
 * sfu-cluster.ts) spread round-robin over the nodes. For each node count,
 * the largest N (< 1 % loss, < 80 % of a core per process, the machine
 * < 95 % busy) over the steps
 * CONFIDE_BENCH_NODES_N, each CONFIDE_BENCH_CAPACITY_S seconds.
 *
 * Knobs: CONFIDE_BENCH_NODES (node counts, "1,2,3"), CONFIDE_BENCH_NODES_N,
 * CONFIDE_BENCH_NODES_WORKERS, CONFIDE_BENCH_CAPACITY_S, CONFIDE_BENCH_GENERATORS,
 * CONFIDE_BENCH_SAMPLE_EVERY.
 */
import { fmt } from './bench/proc.ts';
import { CPU_LIMIT, LOSS_LIMIT, MACHINE_LIMIT, busiest, printSteps, runSteps, verdict, type StepRun } from './bench/sfu-steps.ts';
import { GENERATORS, SAMPLE_EVERY, describeRun } from './bench-capacity.ts';

const list = (v: string | undefined, dflt: number[]) => (v ? v.split(',').map(Number).filter((n) => n > 0) : dflt);
const NODES = list(process.env.CONFIDE_BENCH_NODES, [1, 2, 3]);
const STEPS = list(process.env.CONFIDE_BENCH_NODES_N, [20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 240, 280]);
const WORKERS = Number(process.env.CONFIDE_BENCH_NODES_WORKERS ?? 1);
const SECONDS = Number(process.env.CONFIDE_BENCH_CAPACITY_S ?? 10);

export async function benchNodes(nodes = NODES, steps = STEPS, seconds = SECONDS): Promise<StepRun[]> {
  const runs: StepRun[] = [];
  for (const k of nodes) runs.push(await runSteps({ nodes: k, workersPerNode: WORKERS, generators: GENERATORS, sampleEvery: SAMPLE_EVERY }, steps, seconds));
  return runs;
}

export function printNodes(runs: StepRun[]): void {
  const one = runs.find((r) => r.options.nodes === 1);
  const base = one ? verdict(one).ok?.n : undefined;
  console.log(`Largest N with < ${LOSS_LIMIT} % loss, < ${CPU_LIMIT} % CPU per process and the machine < ${MACHINE_LIMIT} % of its cores, load spread round-robin over the nodes; CPU in % of one core.\n`);
  console.log('| nodes | SFU workers | largest N (total) | per node | ratio to 1 node | first limit at N | what limited | busiest process there | machine CPU % there |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of runs) {
    const { ok, broke } = verdict(r);
    const k = r.options.nodes;
    const n = ok?.n;
    console.log(
      `| ${k} | ${k * r.options.workersPerNode} | ${n ?? 0} | ${fmt((n ?? 0) / k, 1)} | ${base ? fmt((n ?? 0) / base, 2) : '–'} | ${broke?.n ?? '–'} | ${broke?.limit ?? 'none within the steps'} | ` +
        `${busiest(broke ?? r.steps.at(-1)!)} | ${fmt((broke ?? r.steps.at(-1)!).machineCpu, 0)} |`,
    );
  }
  for (const r of runs) {
    console.log(`\n### ${r.options.nodes} node${r.options.nodes > 1 ? 's' : ''}\n\n${describeRun(r)}\n`);
    printSteps(r);
  }
}
