/**
 * CPU part of the "E2EE cost inside Chromium" bench section (issue 14,
 * item 2): Chromium's CPU time per second of a 1:1 call (two pages of one
 * browser, 640×480 at 30 fps) in three modes, each window in a fresh call:
 * - off: no frame transform (the bench-only baseline, plain WebRTC);
 * - pass: the frame Worker and its encoded transforms, frames passed
 *   through unchanged (the bench-only pass-through baseline);
 * - on: the shipped E2EE.
 * Rounds run the three modes back to back, in an order that rotates from
 * round to round, so slow drift on the shared machine and the position in a
 * round hit every mode alike; differences are taken within a round (paired)
 * and reported with a Student-t 95 % confidence interval.
 * CPU comes from /proc (scripts/bench/proc.ts), as % of one core. On a
 * shared machine other work can take every idle cycle; then Chromium gets
 * less CPU than it asks for and its figure says nothing about its needs. A
 * round with a window where the machine had under SATURATED_IDLE % of a
 * core idle is left out of the statistics (and counted in the report).
 */
import os from 'node:os';
import type { Page } from 'playwright-core';
import type { BrowserRig, BenchE2ee } from './browser-rig.ts';
import { cpuMs, fmt, machineBusyMs, threadsCpuByName } from './proc.ts';
import { ci95, mean, stddev } from './stats.ts';
import { videoFrames } from '../../tests/e2e/support/faults.ts';

export const MODES: readonly BenchE2ee[] = ['off', 'pass', 'on'];

/** Below this much idle CPU on the machine (% of one core) during a window, Chromium was starved: its round is left out. */
export const SATURATED_IDLE = 15;

/** One measured window (all CPU figures in % of one core over the window). */
export interface CpuWindow {
  mode: BenchE2ee;
  round: number;
  seconds: number;
  /** Every Chromium process. */
  chromium: number;
  /** The pages' renderer processes. */
  renderers: number;
  /** Per process type (renderer, gpu-process, utility, browser…). */
  byType: Record<string, number>;
  /** Threads of the renderers, by thread name, summed over the renderers. */
  rendererThreads: Record<string, number>;
  /** Everything else the machine ran meanwhile (server, SFU, other users), % of one core. */
  rest: number;
  /** Idle CPU of the whole machine over the window, % of one core (100 × cores − busy). */
  idle: number;
  /** Decoded video, per page (doctor, patient): frames per second and size. */
  fps: number[];
  size: string[];
}

const remoteSize = (page: Page) =>
  page.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>('[data-testid^="remote-tile-"] video');
    return v ? `${v.videoWidth}×${v.videoHeight}` : '?';
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One window: a fresh call in `mode`, `rampMs` to settle, then `seconds` measured. */
export async function measureWindow(rig: BrowserRig, mode: BenchE2ee, round: number, seconds: number, rampMs: number): Promise<CpuWindow> {
  const call = await rig.call(mode);
  try {
    await sleep(rampMs);
    const procs = rig.chromiumProcesses();
    const renderers = procs.filter((p) => p.type === 'renderer');
    const before = procs.map((p) => cpuMs(p.pid));
    const threadsBefore = renderers.map((p) => threadsCpuByName(p.pid));
    const framesBefore = await Promise.all([videoFrames(call.doctor), videoFrames(call.patient)]);
    const busyBefore = machineBusyMs();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const wall = performance.now() - t0;
    const busy = (100 * (machineBusyMs() - busyBefore)) / wall;
    const used = procs.map((p, i) => (100 * (cpuMs(p.pid) - before[i]!)) / wall);
    const threadsAfter = renderers.map((p) => threadsCpuByName(p.pid));
    const framesAfter = await Promise.all([videoFrames(call.doctor), videoFrames(call.patient)]);
    const byType: Record<string, number> = {};
    procs.forEach((p, i) => (byType[p.type] = (byType[p.type] ?? 0) + (Number.isFinite(used[i]) ? used[i]! : 0)));
    const rendererThreads: Record<string, number> = {};
    threadsAfter.forEach((after, i) => {
      for (const [name, ms] of after) rendererThreads[name] = (rendererThreads[name] ?? 0) + (100 * (ms - (threadsBefore[i]!.get(name) ?? 0))) / wall;
    });
    const chromium = used.filter(Number.isFinite).reduce((a, b) => a + b, 0);
    return {
      mode,
      round,
      seconds: wall / 1000,
      chromium,
      renderers: byType.renderer ?? 0,
      byType,
      rendererThreads,
      rest: busy - chromium,
      idle: 100 * os.availableParallelism() - busy,
      fps: framesAfter.map((f, i) => ((f - framesBefore[i]!) * 1000) / wall),
      size: await Promise.all([remoteSize(call.doctor), remoteSize(call.patient)]),
    };
  } finally {
    await call.close();
  }
}

/** `rounds` rounds of one window per mode; round i starts at mode i mod 3 (off, pass, on rotating). */
export async function measureRounds(rig: BrowserRig, rounds: number, seconds: number, rampMs: number): Promise<CpuWindow[]> {
  const out: CpuWindow[] = [];
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < MODES.length; j++) out.push(await measureWindow(rig, MODES[(i + j) % MODES.length]!, i, seconds, rampMs));
  }
  return out;
}

// ---------------------------------------------------------------- report

type Metric = (w: CpuWindow) => number;

const of = (ws: CpuWindow[], mode: BenchE2ee, f: Metric) => ws.filter((w) => w.mode === mode).map(f);

/** Per round, `a`'s figure minus `b`'s (rounds missing either are skipped). */
function paired(ws: CpuWindow[], a: BenchE2ee, b: BenchE2ee, f: Metric): number[] {
  const rounds = [...new Set(ws.map((w) => w.round))];
  return rounds.flatMap((r) => {
    const x = ws.find((w) => w.round === r && w.mode === a);
    const y = ws.find((w) => w.round === r && w.mode === b);
    return x && y ? [f(x) - f(y)] : [];
  });
}

/** "12.3 ± 1.4": mean ± sample standard deviation (just the mean with one sample). */
const meanSd = (xs: number[]) => (xs.length > 1 ? `${fmt(mean(xs))} ± ${fmt(stddev(xs))}` : fmt(mean(xs)));
/** "−1.2 ± 3.4": mean difference ± its 95 % confidence half-width. */
const diffCi = (ds: number[]) => (ds.length > 1 ? `${fmt(mean(ds))} ± ${fmt(ci95(ds))}` : fmt(mean(ds)));

/**
 * Thread names worth a row: ≥ 1 % of a core in some mode, the frame Workers, and the threads
 * WebCrypto's subtle.encrypt/decrypt may run on besides the Worker (a "WebCrypto" thread in
 * older Chromium, the thread pool's foreground workers), whatever their share.
 */
function threadRows(ws: CpuWindow[]): string[] {
  const names = [...new Set(ws.flatMap((w) => Object.keys(w.rendererThreads)))];
  const top = (n: string) => Math.max(...MODES.map((m) => mean(of(ws, m, (w) => w.rendererThreads[n] ?? 0))));
  return names.filter((n) => n.startsWith('DedicatedWorker') || n === 'WebCrypto' || n === 'ThreadPoolForeg' || top(n) >= 1).sort((a, b) => top(b) - top(a));
}

/** Rounds none of whose windows found the machine saturated (see SATURATED_IDLE). */
function unsaturated(ws: CpuWindow[]): CpuWindow[] {
  const starved = new Set(ws.filter((w) => w.idle < SATURATED_IDLE).map((w) => w.round));
  return ws.filter((w) => !starved.has(w.round));
}

/**
 * Prints the CPU tables of the windows: three modes side by side, the paired
 * differences, the verdict. Rounds with a starved window are left out, unless
 * fewer than two would remain (then all are used, and the report says so).
 */
export function printCpu(all: CpuWindow[], rampMs: number): void {
  const kept = unsaturated(all);
  const keptRounds = new Set(kept.map((w) => w.round)).size;
  const allRounds = new Set(all.map((w) => w.round)).size;
  const ws = keptRounds >= 2 || keptRounds === allRounds ? kept : all;
  const rounds = new Set(ws.map((w) => w.round)).size;
  console.log(
    ws === kept
      ? `${allRounds - keptRounds} of ${allRounds} round(s) left out: the machine had under ${SATURATED_IDLE} % of a core idle in one of their windows.`
      : `${allRounds - keptRounds} of ${allRounds} round(s) had a window with under ${SATURATED_IDLE} % of a core idle on the machine; ` +
          `fewer than two would remain, so all are kept: these figures are disturbed by other load.`,
  );
  const secs = mean(ws.map((w) => w.seconds));
  console.log(
    `CPU of Chromium during one 1:1 call (two pages of one browser), % of one core. ${rounds} round(s) of one ${fmt(secs, 0)} s window per mode, ` +
      `each window a fresh call measured ${rampMs / 1000} s after setup, the modes' order rotating from round to round. ` +
      `Modes: off = no frame transform; pass = the frame Worker passes frames through, no crypto; on = E2EE. ` +
      `Cells: mean ± standard deviation over the windows; differences: mean of the per-round differences ± its 95 % confidence interval (Student t).\n`,
  );
  console.log('| Chromium CPU, % of a core | off | pass-through | E2EE on | pass − off (plumbing) | on − pass (crypto) | on − off (E2EE) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const row = (what: string, f: Metric) =>
    console.log(
      `| ${what} | ${MODES.map((m) => meanSd(of(ws, m, f))).join(' | ')} | ` +
        `${diffCi(paired(ws, 'pass', 'off', f))} | ${diffCi(paired(ws, 'on', 'pass', f))} | ${diffCi(paired(ws, 'on', 'off', f))} |`,
    );
  row('all (browser, renderers, GPU, utilities)', (w) => w.chromium);
  row('renderers (the two pages)', (w) => w.renderers);
  for (const t of threadRows(ws)) {
    const label = t.startsWith('DedicatedWorker') ? 'Worker threads (the frame Workers)' : `renderer thread ${t}`;
    row(`· ${label}`, (w) => w.rendererThreads[t] ?? 0);
  }
  const types = [...new Set(ws.flatMap((w) => Object.keys(w.byType)))].filter((t) => t !== 'renderer').sort();
  for (const t of types) row(`${t} process`, (w) => w.byType[t] ?? 0);
  row('rest of the machine (server, SFU, others)', (w) => w.rest);
  row('idle on the machine', (w) => w.idle);
  const video = (m: BenchE2ee) => {
    const xs = ws.filter((w) => w.mode === m);
    return `${[0, 1].map((i) => fmt(mean(xs.map((w) => w.fps[i] ?? NaN)), 0)).join('; ')} fps, ${xs[0]?.size.join('; ') ?? '?'}`;
  };
  console.log(`| decoded video (doctor; patient) | ${MODES.map(video).join(' | ')} | | | |`);

  // Relative to the no-transform call: the goal's measure, with its interval.
  const total: Metric = (w) => w.chromium;
  const base = mean(of(ws, 'off', total));
  const pct = (ds: number[]) => `${fmt((100 * mean(ds)) / base, 1)} %${ds.length > 1 ? ` ± ${fmt((100 * ci95(ds)) / base, 1)} %` : ''}`;
  console.log(
    `\nAgainst the no-transform call (${fmt(base)} % of a core): E2EE adds ${pct(paired(ws, 'on', 'off', total))} ` +
      `(plumbing ${pct(paired(ws, 'pass', 'off', total))}, crypto ${pct(paired(ws, 'on', 'pass', total))}); ` +
      `the frame Workers' own threads: ${fmt((100 * mean(of(ws, 'on', (w) => w.rendererThreads.DedicatedWorker ?? 0))) / base, 1)} % (on), ` +
      `${fmt((100 * mean(of(ws, 'pass', (w) => w.rendererThreads.DedicatedWorker ?? 0))) / base, 1)} % (pass-through).`,
  );
  // Against the pass-through call (issue 14's other allowed baseline): where E2EE's own work can run,
  // the frame Workers, and the renderer threads WebCrypto may post to (its own thread in older
  // Chromium, the thread pool's foreground workers now), with its paired interval.
  const CRYPTO_THREADS = ['DedicatedWorker', 'WebCrypto', 'ThreadPoolForeg'];
  const crypto: Metric = (w) => CRYPTO_THREADS.reduce((a, t) => a + (w.rendererThreads[t] ?? 0), 0);
  const passBase = mean(of(ws, 'pass', total));
  const cd = paired(ws, 'on', 'pass', crypto);
  console.log(
    `Against the pass-through call (${fmt(passBase)} % of a core): the frame Workers, WebCrypto and thread-pool threads add ` +
      `${fmt(mean(cd))}${cd.length > 1 ? ` ± ${fmt(ci95(cd))}` : ''} % of a core, ${fmt((100 * mean(cd)) / passBase, 1)} %` +
      `${cd.length > 1 ? ` (${fmt((100 * (mean(cd) - ci95(cd))) / passBase, 1)}–${fmt((100 * (mean(cd) + ci95(cd))) / passBase, 1)} %)` : ''} of that call.`,
  );
  const list = (m: BenchE2ee) => all.filter((w) => w.mode === m).map((w) => `${fmt(w.chromium, 0)}${w.idle < SATURATED_IDLE ? '*' : ''}`);
  console.log(`Windows, all Chromium (* = machine saturated): ${MODES.map((m) => `${m} ${list(m).join(', ')}`).join('; ')}.`);
}
