/**
 * Resilience benchmark (issue 9): real Chromium pages in a real call, real
 * faults, 5 runs each. Prints the median and range of the recovery time
 * (fault end → video decoding on both sides) for a 3 s network drop, a
 * server restart and a SIGKILLed SFU worker, beside the call-setup time
 * (patient admitted → video both ways) of the same calls.
 */
import { ResilienceRig, type RigCall } from '../tests/e2e/support/resilience-rig.ts';
import buildTestClient from '../tests/e2e/support/global-setup.ts';

const RUNS = Number(process.env.CONFIDE_BENCH_RUNS ?? 5);

interface Row {
  what: string;
  samples: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
};

export async function benchResilience(runs = RUNS): Promise<Row[]> {
  buildTestClient(); // the pages need the test build's window.__confide hooks
  const rig = new ResilienceRig({ min: 41200, max: 41299 });
  await rig.start();
  const rows: Row[] = [
    { what: 'call setup (admitted → two-way video)', samples: [] },
    { what: '(a) network drop 3 s → two-way', samples: [] },
    { what: '(d) server restart → two-way after it answers', samples: [] },
    { what: '(e) SFU worker SIGKILL → two-way', samples: [] },
  ];
  try {
    for (let i = 0; i < runs; i++) {
      const call: RigCall = await rig.call();
      rows[0]!.samples.push(call.setupMs);
      rows[1]!.samples.push(await rig.networkDrop(call));
      rows[2]!.samples.push(await rig.restartServer(call));
      rows[3]!.samples.push(await rig.killWorker(call).recovery);
      await call.close();
    }
  } finally {
    await rig.stop();
  }
  return rows;
}

export function printResilience(rows: Row[]): void {
  const setup = median(rows[0]!.samples);
  console.log(`| measure (${rows[0]!.samples.length} runs, this machine) | median ms | min–max ms | × call setup |`);
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) {
    const m = median(r.samples);
    console.log(`| ${r.what} | ${m} | ${Math.min(...r.samples)}–${Math.max(...r.samples)} | ${(m / setup).toFixed(2)} |`);
  }
}
