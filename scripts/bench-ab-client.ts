/**
 * A/B of two bench builds of the client (a change to the frame Worker, say):
 * the same E2EE call measured with each, windows alternating A, B, B, A…,
 * each in a fresh server and browser (scripts/bench/e2ee-cpu.ts's window).
 * Prints per window and per build: the frame Workers' CPU, all of Chromium's,
 * decoded fps, and the Workers' CPU per decoded video frame.
 *
 *   flock /tmp/confide-browser.lock npx tsx scripts/bench-ab-client.ts <dirA> <dirB> [rounds] [seconds]
 *
 * Each dir is a `vite build --mode bench` output (e.g. dist/client-bench, or
 * one built from an older commit). Not part of `npm run bench`.
 */
import path from 'node:path';
import { BrowserRig } from './bench/browser-rig.ts';
import { measureWindow, type CpuWindow } from './bench/e2ee-cpu.ts';
import { fmt } from './bench/proc.ts';
import { ci95, mean, stddev } from './bench/stats.ts';

const [dirA, dirB] = [process.argv[2], process.argv[3]].map((d) => d && path.resolve(d));
if (!dirA || !dirB) throw new Error('usage: bench-ab-client.ts <dirA> <dirB> [rounds] [seconds]');
const rounds = Number(process.argv[4] ?? 4);
const seconds = Number(process.argv[5] ?? 15);

const worker = (w: CpuWindow) => w.rendererThreads.DedicatedWorker ?? 0;
/** Worker CPU (ms of one core) per second, over decoded video frames per second on both pages: µs per frame. */
const perFrame = (w: CpuWindow) => (worker(w) * 10_000) / ((w.fps[0] ?? 0) + (w.fps[1] ?? 0));

const windows: { build: 'A' | 'B'; w: CpuWindow }[] = [];
for (let i = 0; i < rounds; i++) {
  for (const build of (i % 2 ? ['B', 'A'] : ['A', 'B']) as ('A' | 'B')[]) {
    const rig = new BrowserRig(build === 'A' ? dirA : dirB);
    await rig.start();
    try {
      const w = await measureWindow(rig, 'on', i, seconds, 5000);
      windows.push({ build, w });
      console.log(`${build} round ${i}: Workers ${fmt(worker(w))} %, Chromium ${fmt(w.chromium)} %, fps ${w.fps.map((f) => fmt(f, 0)).join('; ')}, idle ${fmt(w.idle)} %`);
    } finally {
      await rig.stop();
    }
  }
}
console.log('\n| build | frame Workers, % of a core | all Chromium | Worker µs per decoded video frame |\n| --- | --- | --- | --- |');
for (const b of ['A', 'B'] as const) {
  const ws = windows.filter((x) => x.build === b).map((x) => x.w);
  const cell = (f: (w: CpuWindow) => number) => `${fmt(mean(ws.map(f)))} ± ${fmt(stddev(ws.map(f)))}`;
  console.log(`| ${b} | ${cell(worker)} | ${cell((w) => w.chromium)} | ${cell(perFrame)} |`);
}
const diffs = [...Array(rounds).keys()].map((i) => {
  const a = windows.find((x) => x.build === 'A' && x.w.round === i)!.w;
  const b = windows.find((x) => x.build === 'B' && x.w.round === i)!.w;
  return worker(b) - worker(a);
});
console.log(`\nB − A, frame Workers: ${fmt(mean(diffs))} ± ${fmt(ci95(diffs))} % of a core (paired, 95 %).`);
