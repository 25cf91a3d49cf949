/**
 * Browser sections of `npm run bench` (issue 14, items 1 and 2), on real
 * Chromium pages in real calls (scripts/bench/browser-rig.ts):
 * - call setup: doctor's Admit click → first decoded remote frame on each
 *   side, E2EE on and off (the bench-only baseline), alternating, median;
 * - E2EE cost: CPU time of Chromium's processes per second of a 640×480,
 *   30 fps call, on against off; and per-frame encrypt/decrypt time inside a
 *   Chromium Worker beside Node's, with the same code (client/e2ee/bench-crypto.ts).
 *
 * Knobs: CONFIDE_BENCH_SETUP_RUNS (calls per mode, default 10),
 * CONFIDE_BENCH_CPU_S (measured seconds per window, default 20),
 * CONFIDE_BENCH_CPU_ROUNDS (on/off window pairs, alternating, default 3),
 * CONFIDE_BENCH_CRYPTO_ITERS (frames per size, default 500), CONFIDE_BENCH_WARMUP_CALLS
 * (calls before measuring, default 1), CONFIDE_BENCH_RAMP_MS (call age before a CPU window, default 5000).
 */
import type { Page } from 'playwright-core';
import { BrowserRig } from './bench/browser-rig.ts';
import { cpuMs, fmt, median, threadsCpuMs } from './bench/proc.ts';
import { BATCH, timeFrameCrypto, type CryptoTiming } from '../client/e2ee/bench-crypto.ts';
import { videoFrames } from '../tests/e2e/support/faults.ts';

const SETUP_RUNS = Number(process.env.CONFIDE_BENCH_SETUP_RUNS ?? 10);
const CPU_S = Number(process.env.CONFIDE_BENCH_CPU_S ?? 20);
const CPU_ROUNDS = Number(process.env.CONFIDE_BENCH_CPU_ROUNDS ?? 3);
const CRYPTO_ITERS = Number(process.env.CONFIDE_BENCH_CRYPTO_ITERS ?? 500);
const CRYPTO_SIZES = [100, 6 * 1024, 100 * 1024];
/** After setup, before measuring: the sender's bandwidth estimate ramps up to full rate. */
const RAMP_MS = Number(process.env.CONFIDE_BENCH_RAMP_MS ?? 5000);
/** Calls made before measuring, so first-load costs (bundle compile, caches) stay out of the figures. */
const WARMUP_CALLS = Number(process.env.CONFIDE_BENCH_WARMUP_CALLS ?? 1);

type Mode = 'on' | 'off';

// ---------------------------------------------------------------- call setup

export interface SetupResult {
  runs: number;
  /** Per mode: first remote frame on the doctor's and the patient's page after Admit (ms), one entry per call. */
  doctor: Record<Mode, number[]>;
  patient: Record<Mode, number[]>;
}

export async function benchCallSetup(runs = SETUP_RUNS): Promise<SetupResult> {
  const rig = new BrowserRig();
  await rig.start();
  const r: SetupResult = { runs, doctor: { on: [], off: [] }, patient: { on: [], off: [] } };
  try {
    // Warm-up calls (first page loads compile the bundle), then on/off alternating.
    for (let i = 0; i < WARMUP_CALLS; i++) await (await rig.call(true)).close();
    for (let i = 0; i < runs; i++) {
      for (const mode of (i % 2 ? ['off', 'on'] : ['on', 'off']) as Mode[]) {
        const call = await rig.call(mode === 'on');
        r.doctor[mode].push(call.doctorFirstFrameMs);
        r.patient[mode].push(call.patientFirstFrameMs);
        await call.close();
      }
    }
  } finally {
    await rig.stop();
  }
  return r;
}

export function printCallSetup(r: SetupResult): void {
  const both = (m: Mode) => r.doctor[m].map((d, i) => Math.max(d, r.patient[m][i]!));
  const rows: [string, number[], number[]][] = [
    ['doctor sees the patient', r.doctor.on, r.doctor.off],
    ['patient sees the doctor', r.patient.on, r.patient.off],
    ['both see each other', both('on'), both('off')],
  ];
  console.log(`Admit click → first decoded remote video frame, ${r.runs} calls per mode (on/off alternating), ms.\n`);
  console.log('| first remote frame | E2EE on median | on min–max | E2EE off median | off min–max | on / off |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [what, on, off] of rows) {
    console.log(
      `| ${what} | ${fmt(median(on), 0)} | ${fmt(Math.min(...on), 0)}–${fmt(Math.max(...on), 0)} | ${fmt(median(off), 0)} | ` +
        `${fmt(Math.min(...off), 0)}–${fmt(Math.max(...off), 0)} | ${fmt(median(on) / median(off), 2)} |`,
    );
  }
}

// ---------------------------------------------------------------- E2EE cost

export interface CpuRow {
  mode: Mode;
  seconds: number;
  /** % of one core, over the window: all Chromium processes, the two pages' renderers, their Worker threads. */
  chromium: number;
  renderers: number;
  workerThreads: number;
  byType: Record<string, number>;
  /** Decoded video, per page: frames per second and size. */
  fps: number[];
  size: string[];
}

export interface CostResult {
  /** One row per window: on/off alternating, CPU_ROUNDS of each. */
  cpu: CpuRow[];
  worker: CryptoTiming[];
  node: CryptoTiming[];
}

const remoteSize = (page: Page) =>
  page.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>('[data-testid^="remote-tile-"] video');
    return v ? `${v.videoWidth}×${v.videoHeight}` : '?';
  });

async function measureCpu(rig: BrowserRig, mode: Mode, seconds: number): Promise<CpuRow> {
  const call = await rig.call(mode === 'on');
  try {
    await new Promise((r) => setTimeout(r, RAMP_MS));
    const procs = rig.chromiumProcesses();
    const renderers = procs.filter((p) => p.type === 'renderer');
    const before = procs.map((p) => cpuMs(p.pid));
    const threadsBefore = renderers.map((p) => threadsCpuMs(p.pid, 'DedicatedWorker'));
    const framesBefore = await Promise.all([videoFrames(call.doctor), videoFrames(call.patient)]);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const wall = performance.now() - t0;
    const framesAfter = await Promise.all([videoFrames(call.doctor), videoFrames(call.patient)]);
    const used = procs.map((p, i) => (100 * (cpuMs(p.pid) - before[i]!)) / wall);
    const byType: Record<string, number> = {};
    procs.forEach((p, i) => (byType[p.type] = (byType[p.type] ?? 0) + (Number.isFinite(used[i]) ? used[i]! : 0)));
    const threads = renderers.map((p, i) => (100 * (threadsCpuMs(p.pid, 'DedicatedWorker') - threadsBefore[i]!)) / wall);
    return {
      mode,
      seconds: wall / 1000,
      chromium: used.filter(Number.isFinite).reduce((a, b) => a + b, 0),
      renderers: byType.renderer ?? 0,
      workerThreads: threads.reduce((a, b) => a + b, 0),
      byType,
      fps: framesAfter.map((f, i) => ((f - framesBefore[i]!) * 1000) / wall),
      size: await Promise.all([remoteSize(call.doctor), remoteSize(call.patient)]),
    };
  } finally {
    await call.close();
  }
}

export async function benchE2eeCost(seconds = CPU_S, iters = CRYPTO_ITERS): Promise<CostResult> {
  const rig = new BrowserRig();
  await rig.start();
  try {
    for (let i = 0; i < WARMUP_CALLS; i++) await (await rig.call(true)).close();
    // Alternating windows, each in a fresh call: drift (other load, thermal) hits both modes alike.
    const cpu: CpuRow[] = [];
    for (let i = 0; i < CPU_ROUNDS; i++) {
      for (const mode of (i % 2 ? ['off', 'on'] : ['on', 'off']) as Mode[]) cpu.push(await measureCpu(rig, mode, seconds));
    }
    // In-Worker timing on a page alone in its call (its camera still encodes, as in a real call).
    const call = await rig.call(true);
    await call.patient.context().close();
    const worker = await call.doctor.evaluate(
      ([sizes, n]) => (window.__confide?.benchCrypto as (s: number[], i: number) => Promise<CryptoTiming[]>)(sizes, n),
      [CRYPTO_SIZES, iters] as const,
    );
    await call.close();
    return { cpu, worker, node: await timeFrameCrypto(CRYPTO_SIZES, iters) };
  } finally {
    await rig.stop();
  }
}

const label = (bytes: number) => (bytes >= 1024 ? `${bytes / 1024} KB` : `${bytes} B`);

/** The mean of a mode's windows, field by field. */
function meanRow(rows: CpuRow[], mode: Mode): CpuRow {
  const xs = rows.filter((r) => r.mode === mode);
  const avg = (f: (r: CpuRow) => number) => xs.reduce((a, r) => a + f(r), 0) / xs.length;
  const types = [...new Set(xs.flatMap((r) => Object.keys(r.byType)))];
  return {
    mode,
    seconds: avg((r) => r.seconds),
    chromium: avg((r) => r.chromium),
    renderers: avg((r) => r.renderers),
    workerThreads: avg((r) => r.workerThreads),
    byType: Object.fromEntries(types.map((t) => [t, avg((r) => r.byType[t] ?? 0)])),
    fps: [0, 1].map((i) => avg((r) => r.fps[i] ?? NaN)),
    size: xs[0]?.size ?? [],
  };
}

export function printE2eeCost(r: CostResult): void {
  const on = meanRow(r.cpu, 'on');
  const off = meanRow(r.cpu, 'off');
  const windows = r.cpu.filter((x) => x.mode === 'on').length;
  console.log(
    `CPU of Chromium during one 1:1 call (two pages, one browser), % of one core: mean of ${windows} windows per mode ` +
      `(${fmt(on.seconds, 0)} s each, on/off alternating, a fresh call each, after ${RAMP_MS / 1000} s ramp-up).\n`,
  );
  console.log('| Chromium processes | E2EE on | E2EE off | on − off | on / off |');
  console.log('| --- | --- | --- | --- | --- |');
  // A ratio to a near-idle baseline (the idle Worker of the E2EE-off call) says nothing: '–' below 1 %.
  const row = (what: string, a: number, b: number) => console.log(`| ${what} | ${fmt(a)} | ${fmt(b)} | ${fmt(a - b)} | ${b >= 1 ? fmt(a / b, 3) : '–'} |`);
  row('all (browser, renderers, GPU, utilities)', on.chromium, off.chromium);
  row('renderers (the two pages)', on.renderers, off.renderers);
  row('Worker threads in the renderers (the E2EE frame Workers)', on.workerThreads, off.workerThreads);
  for (const t of Object.keys({ ...on.byType, ...off.byType }).filter((t) => t !== 'renderer').sort()) {
    row(`${t} process`, on.byType[t] ?? 0, off.byType[t] ?? 0);
  }
  console.log(`| decoded video (doctor; patient) | ${on.fps.map((f) => fmt(f, 0)).join('; ')} fps, ${on.size.join('; ')} | ${off.fps.map((f) => fmt(f, 0)).join('; ')} fps, ${off.size.join('; ')} | | |`);
  const spread = (mode: Mode) => r.cpu.filter((x) => x.mode === mode).map((x) => fmt(x.chromium, 0)).join(', ');
  console.log(
    `\nE2EE adds ${fmt((100 * (on.chromium - off.chromium)) / off.chromium, 1)} % to the call's Chromium CPU (windows: on ${spread('on')}; off ${spread('off')}); ` +
      `the frame Workers alone are ${fmt((100 * (on.workerThreads - off.workerThreads)) / off.chromium, 1)} % of the E2EE-off total.\n`,
  );
  console.log(`Per-frame SFrame crypto (protectFrame / unprotectFrame, AES-128-GCM), ${r.worker[0]?.iters ?? 0} frames per size in batches of ${BATCH}; median / p95 of the batch means, ms.\n`);
  console.log('| frame | encrypt in Chromium Worker (median / p95) | encrypt in Node | decrypt in Chromium Worker | decrypt in Node | Worker / Node (enc, median) |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  r.worker.forEach((w, i) => {
    const n = r.node[i]!;
    console.log(
      `| ${label(w.bytes)} | ${fmt(w.encryptMedianMs, 3)} / ${fmt(w.encryptP95Ms, 3)} | ${fmt(n.encryptMedianMs, 3)} / ${fmt(n.encryptP95Ms, 3)} | ` +
        `${fmt(w.decryptMedianMs, 3)} / ${fmt(w.decryptP95Ms, 3)} | ${fmt(n.decryptMedianMs, 3)} / ${fmt(n.decryptP95Ms, 3)} | ${fmt(w.encryptMedianMs / n.encryptMedianMs, 2)} |`,
    );
  });
}
