/**
 * The SFU capacity benches' common loop and table (bench-capacity.ts,
 * bench-nodes.ts): grow an SfuCluster step by step, measure each step, stop
 * at the first one that breaks a limit, and print the steps as markdown.
 */
import { SfuCluster, type ClusterOptions, type StepMeasure } from './sfu-cluster.ts';
import os from 'node:os';
import { fmt } from './proc.ts';

export const LOSS_LIMIT = 1; // %
export const CPU_LIMIT = 80; // % of one core, per process
/**
 * % of all cores: past this the machine is full, so no process can reach
 * CPU_LIMIT any more (they share what is left) and the per-process rule
 * stops meaning anything; the step counts as saturated.
 */
export const MACHINE_LIMIT = 95;
const CORES = os.availableParallelism();
/** Warm-up before each window: longer than the 2 s keyframe loop, so every video consumer has started. */
export const WARMUP_MS = 3000;

export interface Step extends StepMeasure {
  /** The limits this step broke, if any ("SFU worker 83 % CPU", …). */
  limit: string | undefined;
}

export interface StepRun {
  options: ClusterOptions;
  seconds: number;
  /** Worker RSS with no consultation (bytes). */
  baseRss: number;
  steps: Step[];
}

const max = (xs: number[]) => Math.max(...xs);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Every limit a step broke: loss (all consultations or the sampled ones), a process's CPU, the whole machine's CPU, silent streams, bad tags, send errors. */
export function limitOf(r: StepMeasure): string | undefined {
  const hit: string[] = [];
  if (r.sfuLossPct >= LOSS_LIMIT) hit.push(`SFU loss ${fmt(r.sfuLossPct, 2)} %`);
  if (r.sampledLossPct >= LOSS_LIMIT) hit.push(`sampled loss ${fmt(r.sampledLossPct, 2)} %`);
  if (max(r.workerCpu) >= CPU_LIMIT) hit.push(`SFU worker ${fmt(max(r.workerCpu), 0)} % CPU`);
  if (max(r.generatorCpu) >= CPU_LIMIT) hit.push(`generator ${fmt(max(r.generatorCpu), 0)} % CPU`);
  if (max(r.nodeCpu) >= CPU_LIMIT) hit.push(`node process ${fmt(max(r.nodeCpu), 0)} % CPU`);
  if (r.machineCpu >= MACHINE_LIMIT * CORES) {
    // On a shared machine other people's work can fill it: say how much, so a disturbed step is not read as capacity.
    const others = r.machineCpu - sum(r.workerCpu) - sum(r.generatorCpu) - sum(r.nodeCpu);
    hit.push(`machine full (${fmt(r.machineCpu, 0)} % of ${100 * CORES} %${others >= 10 ? `, ${fmt(others, 0)} % of it other processes` : ''})`);
  }
  if (r.silentStreams > 0) hit.push(`${r.silentStreams} silent streams`);
  if (r.badTags > 0) hit.push(`${r.badTags} frames failed their SFrame tag`);
  if (r.sendErrors > 0) hit.push(`${r.sendErrors} send errors`);
  return hit.length ? hit.join(', ') : undefined;
}

/**
 * Runs `steps` (consultation counts, ascending) on a fresh cluster, each
 * measured for `seconds` after WARMUP_MS; stops after the first step that
 * breaks a limit, or once `maxWallS` seconds have passed.
 */
export async function runSteps(options: ClusterOptions, steps: number[], seconds: number, maxWallS = Infinity): Promise<StepRun> {
  const cluster = await SfuCluster.create(options);
  const started = Date.now();
  const out: StepRun = { options, seconds, baseRss: cluster.workerRss(), steps: [] };
  try {
    for (const n of steps) {
      if ((Date.now() - started) / 1000 > maxWallS) break;
      while (cluster.consultations < n) await cluster.addConsultation();
      await new Promise((r) => setTimeout(r, WARMUP_MS));
      const m = await cluster.measure(seconds);
      const limit = limitOf(m);
      out.steps.push({ ...m, limit });
      if (limit) break;
    }
  } finally {
    await cluster.close();
  }
  return out;
}

/** Largest step without a limit, and the first with one. */
export function verdict(run: StepRun): { ok: Step | undefined; broke: Step | undefined } {
  return { ok: run.steps.filter((s) => !s.limit).at(-1), broke: run.steps.find((s) => s.limit) };
}

/** Which process was busiest at a step, for the "what saturates first" line. */
export function busiest(s: StepMeasure): string {
  const cands: [string, number][] = [
    ['an SFU worker', max(s.workerCpu)],
    ['a generator process', max(s.generatorCpu)],
    ['a node process', max(s.nodeCpu)],
  ];
  const [name, pct] = cands.sort((a, b) => b[1] - a[1])[0]!;
  return `${name} (${fmt(pct, 0)} %)`;
}

const mb = (b: number) => fmt(b / 2 ** 20, 1);

/** Prints one markdown table of a run's steps (CPU in % of one core). */
export function printSteps(run: StepRun): void {
  console.log(
    '| N | consumers | busiest worker CPU % | all workers CPU % | workers CPU % per consultation | generators CPU % (busiest / all) | node processes CPU % | machine CPU % (of 100 × cores): all (not ours) | worker RSS MB | ΔRSS per consultation MB | SFU loss % (all N) | sampled N | sampled loss % | delay p50 ms | delay p99 ms | frames opened / bad tags | sent Mbit/s | per participant kbit/s | limit |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const x of run.steps) {
    const w = sum(x.workerCpu);
    console.log(
      `| ${x.n} | ${4 * x.n} | ${fmt(max(x.workerCpu))} | ${fmt(w)} | ${fmt(w / x.n, 2)} | ${fmt(max(x.generatorCpu))} / ${fmt(sum(x.generatorCpu))} | ${fmt(sum(x.nodeCpu))} | ${fmt(x.machineCpu, 0)} (${fmt(x.machineCpu - w - sum(x.generatorCpu) - sum(x.nodeCpu), 0)}) | ` +
        `${mb(x.workerRss)} | ${fmt((x.workerRss - run.baseRss) / x.n / 2 ** 20, 2)} | ${fmt(x.sfuLossPct, 3)} | ${x.sampled} | ${fmt(x.sampledLossPct, 3)} | ` +
        `${fmt(x.delayP50, 2)} | ${fmt(x.delayP99, 2)} | ${x.checked} / ${x.badTags} | ${fmt(x.sentBps / 1e6, 1)} | ${fmt(x.sentBps / (2 * x.n) / 1000, 0)} | ${x.limit ?? 'ok'} |`,
    );
  }
}
