/**
 * Failover benchmark (issue 16): three Confide nodes, each its own process,
 * on one PostgreSQL and one Redis behind an nginx balancer
 * (tests/e2e/support/cluster-rig.ts); one E2EE call between two Chromium
 * pages. Each run SIGKILLs the node hosting the room and measures the time
 * to two-way video on the node the room moves to, then starts the killed
 * node again (so each run has three nodes). Prints every run and the median.
 */
import type { Browser, Page } from 'playwright-core';
import type { ConfideServer } from '../server/app.ts';
import buildTestClient from '../tests/e2e/support/global-setup.ts';
import { ClusterRig } from '../tests/e2e/support/cluster-rig.ts';
import { launchChromium, newPerson, waitFor } from '../tests/e2e/support/browser.ts';
import { TestConsultation } from '../tests/e2e/support/consultation.ts';
import { twoWayAfter } from '../tests/e2e/support/faults.ts';

const RUNS = Number(process.env.CONFIDE_BENCH_RUNS ?? 5);

export interface FailoverRun {
  killed: string;
  movedTo: string;
  /** SIGKILL → two-way video on both pages (ms). */
  ms: number;
}

export interface FailoverResult {
  setupMs: number;
  runs: FailoverRun[];
}

export async function benchFailover(runs = RUNS): Promise<FailoverResult> {
  buildTestClient(); // the pages need the test build's window.__confide hooks
  const rig = new ClusterRig();
  let browser: Browser | undefined;
  try {
    await rig.start(['node-a', 'node-b', 'node-c']);
    browser = await launchChromium();
    const c = await TestConsultation.create({ stores: rig.stores, url: rig.lbUrl } as unknown as ConfideServer);
    const d = await newPerson(browser, rig.lbUrl);
    const p = await newPerson(browser, rig.lbUrl);
    const pages: Page[] = [d.page, p.page];
    await c.joinAsDoctor(d.page);
    const admitted = Date.now();
    await c.joinAsPatientAdmittedIn(d.page, p.page, 'Zoé');
    const setupMs = await twoWayAfter(pages, admitted);
    const host = async () => (await rig.redisClient.get(`confide:room:${c.id}`)) ?? '?';
    const out: FailoverRun[] = [];
    for (let i = 0; i < runs; i++) {
      const killed = await host();
      const at = await rig.kill(killed);
      const ms = await twoWayAfter(pages, at, 30_000);
      out.push({ killed, movedTo: await host(), ms });
      await rig.restart(killed);
      await waitFor(`${killed} live again`, () => rig.redisClient.exists(`confide:node:${killed}`), (n) => n === 1, 15_000);
    }
    return { setupMs, runs: out };
  } finally {
    await browser?.close();
    await rig.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
};

export function printFailover(r: FailoverResult): void {
  console.log(`Call set up across the nodes in ${r.setupMs} ms (patient's entry → two-way video).\n`);
  console.log('| run | hosting node SIGKILLed | room moved to | SIGKILL → two-way video ms |');
  console.log('| --- | --- | --- | --- |');
  r.runs.forEach((x, i) => console.log(`| ${i + 1} | ${x.killed} | ${x.movedTo} | ${x.ms} |`));
  const ms = r.runs.map((x) => x.ms);
  console.log(`\nmedian ${median(ms)} ms, min–max ${Math.min(...ms)}–${Math.max(...ms)} ms over ${ms.length} runs (goal: ≤ 10 000)`);
}
