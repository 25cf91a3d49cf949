/**
 * Memory section of `npm run bench` (issue 14, item 4): one E2EE call
 * (scripts/bench/browser-rig.ts) kept up for CONFIDE_BENCH_MEMORY_S seconds
 * (default 600) with a chat message every few seconds and a 256 KB file at
 * the start. Samples, after a forced GC (DevTools protocol), each page's JS
 * heap, and the server's RSS (its Node process and its SFU worker) before
 * and during the call: what one live consultation costs the server.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { CDPSession, Page } from 'playwright-core';
import { BrowserRig } from './bench/browser-rig.ts';
import { fmt, rssBytes } from './bench/proc.ts';
import { makePdf, receivedPdf, sendPdf, sendText } from '../tests/e2e/support/chat.ts';

const SECONDS = Number(process.env.CONFIDE_BENCH_MEMORY_S ?? 600);

/** A full GC of this process (server and bench share it), so heap figures are live data, not garbage. */
function gcNow(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}
const SAMPLES = 10;

export interface MemorySample {
  atS: number;
  /** Used JS heap after GC (bytes), per page (main thread). */
  doctorHeap: number;
  patientHeap: number;
  chats: number;
}

export interface MemoryResult {
  seconds: number;
  samples: MemorySample[];
  /** Server process RSS and V8 heap after a GC, and its SFU workers' RSS (bytes), before the call and during it. */
  serverBefore: number;
  serverDuring: number;
  heapBefore: number;
  heapDuring: number;
  workersBefore: number;
  workersDuring: number;
  fileBytes: number;
}

async function heapAfterGc(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  return (await cdp.send('Runtime.getHeapUsage')).usedSize;
}

export async function benchMemory(seconds = SECONDS): Promise<MemoryResult> {
  const rig = new BrowserRig();
  await rig.start();
  const workersRss = () => rig.server.pool.pids.reduce((a, p) => a + rssBytes(p), 0);
  try {
    gcNow();
    const serverBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;
    const workersBefore = workersRss();
    const call = await rig.call('on');
    try {
      const cdp = await Promise.all([call.doctor, call.patient].map((p: Page) => p.context().newCDPSession(p)));
      const pdf = makePdf('bench', 256 * 1024);
      await Promise.all([cdp[0]!.send('HeapProfiler.enable'), cdp[1]!.send('HeapProfiler.enable')]);
      await sendPdf(call.doctor, 'bench.pdf', pdf);
      await receivedPdf(call.patient, 'bench.pdf');
      const samples: MemorySample[] = [];
      const start = Date.now();
      const every = (seconds * 1000) / SAMPLES;
      let chats = 0;
      for (let i = 0; i <= SAMPLES; i++) {
        const [d, p] = await Promise.all(cdp.map(heapAfterGc));
        samples.push({ atS: (Date.now() - start) / 1000, doctorHeap: d!, patientHeap: p!, chats });
        if (i === SAMPLES) break;
        // Chat through the interval: one message every ~5 s, alternating sides.
        const until = start + (i + 1) * every;
        while (Date.now() < until) {
          await sendText(chats % 2 ? call.patient : call.doctor, `bench message ${chats++}`);
          await new Promise((r) => setTimeout(r, Math.min(5000, Math.max(0, until - Date.now()))));
        }
      }
      gcNow();
      const serverDuring = process.memoryUsage().rss;
      const heapDuring = process.memoryUsage().heapUsed;
      const workersDuring = workersRss();
      return { seconds, samples, serverBefore, serverDuring, heapBefore, heapDuring, workersBefore, workersDuring, fileBytes: pdf.length };
    } finally {
      await call.close();
    }
  } finally {
    await rig.stop();
  }
}

const mb = (b: number) => fmt(b / 2 ** 20, 2);

/** Least-squares slope of ys over xs (units of y per unit of x). */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return den ? num / den : NaN;
}

export function printMemory(r: MemoryResult): void {
  console.log(`One E2EE call for ${r.seconds} s: a ${fmt(r.fileBytes / 1024, 0)} KB file at the start, a chat message every ~5 s; JS heap of each page's main thread after a forced GC.\n`);
  console.log('| time s | chat messages sent | doctor heap MB | patient heap MB |');
  console.log('| --- | --- | --- | --- |');
  for (const s of r.samples) console.log(`| ${fmt(s.atS, 0)} | ${s.chats} | ${mb(s.doctorHeap)} | ${mb(s.patientHeap)} |`);
  const late = r.samples.slice(Math.floor(r.samples.length / 2));
  const perMin = (pick: (s: MemorySample) => number) => (slope(late.map((s) => s.atS), late.map(pick)) * 60) / 2 ** 20;
  console.log(
    `\nHeap trend over the second half: doctor ${fmt(perMin((s) => s.doctorHeap), 3)} MB/min, patient ${fmt(perMin((s) => s.patientHeap), 3)} MB/min ` +
      `(first → last sample: doctor ${fmt((r.samples.at(-1)!.doctorHeap - r.samples[0]!.doctorHeap) / 2 ** 20, 2)} MB, patient ${fmt((r.samples.at(-1)!.patientHeap - r.samples[0]!.patientHeap) / 2 ** 20, 2)} MB).\n`,
  );
  console.log('| server memory | before the call MB | during the call MB | per live consultation MB |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| Node process V8 heap after GC (also holds the bench's Playwright client) | ${mb(r.heapBefore)} | ${mb(r.heapDuring)} | ${mb(r.heapDuring - r.heapBefore)} |`);
  console.log(`| Node process RSS after GC (same process) | ${mb(r.serverBefore)} | ${mb(r.serverDuring)} | ${mb(r.serverDuring - r.serverBefore)} |`);
  console.log(`| SFU worker RSS | ${mb(r.workersBefore)} | ${mb(r.workersDuring)} | ${mb(r.workersDuring - r.workersBefore)} |`);
}
