/**
 * Browser sections of `npm run bench` (issue 14, items 1 and 2), on real
 * Chromium pages in real calls (scripts/bench/browser-rig.ts):
 * - call setup: doctor's Admit click → first decoded remote frame on each
 *   side, E2EE on and off (the bench-only baseline), alternating, median;
 * - E2EE cost: CPU time of Chromium's processes per second of a 640×480,
 *   30 fps call, with no transform, a pass-through transform and E2EE, in
 *   rotating rounds (scripts/bench/e2ee-cpu.ts); and per-frame
 *   encrypt/decrypt time inside a Chromium Worker beside Node's, with the
 *   same code (client/e2ee/bench-crypto.ts).
 *
 * Knobs: CONFIDE_BENCH_SETUP_RUNS (calls per mode, default 10),
 * CONFIDE_BENCH_CPU_S (measured seconds per window, default 15),
 * CONFIDE_BENCH_CPU_ROUNDS (rounds of one window per mode: off, pass, on; default 6),
 * CONFIDE_BENCH_CRYPTO_ITERS (frames per size, default 500), CONFIDE_BENCH_WARMUP_CALLS
 * (calls before measuring, default 1), CONFIDE_BENCH_RAMP_MS (call age before a CPU window, default 5000).
 */
import { BrowserRig } from './bench/browser-rig.ts';
import { measureRounds, printCpu, type CpuWindow } from './bench/e2ee-cpu.ts';
import { fmt, median } from './bench/proc.ts';
import { BATCH, timeFrameCrypto, type CryptoTiming } from '../client/e2ee/bench-crypto.ts';

const SETUP_RUNS = Number(process.env.CONFIDE_BENCH_SETUP_RUNS ?? 10);
const CPU_S = Number(process.env.CONFIDE_BENCH_CPU_S ?? 15);
const CPU_ROUNDS = Number(process.env.CONFIDE_BENCH_CPU_ROUNDS ?? 6);
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
    for (let i = 0; i < WARMUP_CALLS; i++) await (await rig.call('on')).close();
    for (let i = 0; i < runs; i++) {
      for (const mode of (i % 2 ? ['off', 'on'] : ['on', 'off']) as Mode[]) {
        const call = await rig.call(mode);
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

export interface CostResult {
  /** One entry per window: CPU_ROUNDS rounds of off, pass-through and on (scripts/bench/e2ee-cpu.ts). */
  cpu: CpuWindow[];
  worker: CryptoTiming[];
  node: CryptoTiming[];
}

export async function benchE2eeCost(seconds = CPU_S, iters = CRYPTO_ITERS): Promise<CostResult> {
  const rig = new BrowserRig();
  await rig.start();
  try {
    for (let i = 0; i < WARMUP_CALLS; i++) await (await rig.call('on')).close();
    // Rotating rounds of the three modes, each window in a fresh call: drift (other load) hits every mode alike.
    const cpu = await measureRounds(rig, CPU_ROUNDS, seconds, RAMP_MS);
    // In-Worker timing on a page alone in its call (its camera still encodes, as in a real call).
    const call = await rig.call('on');
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

export function printE2eeCost(r: CostResult): void {
  printCpu(r.cpu, RAMP_MS);
  console.log('');
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
