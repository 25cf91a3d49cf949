// Issues 14 and 16: `npm run bench`'s browser, capacity, nodes, memory,
// server-memory and failover sections run end to end at a reduced size (one
// call per mode, 2 s CPU windows, N = 1, 2 for 2 s, N = 2 on 1, 2 and 3 node
// processes, a 4 s memory run, a server process with 0 and 2 consultations,
// one failover of three node processes) and print every table with numbers
// in it. Timings
// are never asserted: only that each figure was measured, and that the SFU
// forwarded the synthetic SFrame frames intact (sampled tags all open).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REDUCED = {
  CONFIDE_BENCH_SETUP_RUNS: '1',
  CONFIDE_BENCH_WARMUP_CALLS: '0',
  CONFIDE_BENCH_RAMP_MS: '1000',
  CONFIDE_BENCH_CPU_S: '2',
  CONFIDE_BENCH_CPU_ROUNDS: '1',
  CONFIDE_BENCH_CRYPTO_ITERS: '20',
  CONFIDE_BENCH_MEMORY_S: '4',
  CONFIDE_BENCH_CAPACITY_N: '1,2',
  CONFIDE_BENCH_CAPACITY_S: '2',
  CONFIDE_BENCH_NODES: '1,2,3',
  CONFIDE_BENCH_NODES_N: '2',
  CONFIDE_BENCH_RUNS: '1',
  CONFIDE_BENCH_SERVER_N: '0,2',
};
const SECTIONS = ['Call setup, E2EE on and off', 'E2EE cost inside Chromium', 'SFU capacity', 'SFU nodes', 'Memory', 'Server memory per consultation', 'Failover of a node'];

function runBench(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/bench.ts', 'call setup', 'inside chromium', 'sfu capacity', 'sfu nodes', 'memory', 'failover'],
      { cwd: root, env: { ...process.env, ...REDUCED }, timeout: 360_000, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}\n${stdout}`)) : resolve(stdout)),
    );
  });
}

/** The markdown tables of a section: each a list of data rows, each a list of cells. */
function tables(text: string): string[][][] {
  const out: string[][][] = [];
  let cur: string[][] | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      cur = undefined;
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (!cur) out.push((cur = []));
    else if (!cells.every((c) => /^-+$/.test(c))) cur.push(cells);
  }
  return out;
}

const num = /^-?\d+(\.\d+)?$/;

/** One step row of an SFU table (scripts/bench/sfu-steps.ts): every figure measured, every sampled frame's tag opened. */
function expectStep(r: string[]): void {
  for (const c of [2, 3, 4, 6, 8, 9, 10, 11, 12, 13, 14, 16, 17]) expect(r[c], `N=${r[0]} col ${c}`).toMatch(num);
  expect(r[5], `N=${r[0]} generators`).toMatch(/^\d+\.\d \/ \d+\.\d$/);
  expect(r[7], `N=${r[0]} machine`).toMatch(/^\d+ \(-?\d+\)$/);
  const [opened, bad] = r[15]!.split(' / ').map(Number);
  expect(opened, `N=${r[0]} frames opened`).toBeGreaterThan(0);
  expect(bad, `N=${r[0]} bad tags`).toBe(0);
}

describe('npm run bench at a reduced size', () => {
  it('prints every table of the call-setup, E2EE-cost, capacity, nodes, memory, server-memory and failover sections, with numbers', { timeout: 390_000 }, async () => {
    const out = await runBench();
    console.log(out); // the figures of this run, for the log
    expect(out).toMatch(/^Machine: \d+ × .+ GiB RAM/m);
    const parts = new Map(out.split(/^## /m).slice(1).map((p) => [p.slice(0, p.indexOf('\n')).trim(), p]));
    expect([...parts.keys()]).toEqual(SECTIONS);
    const t = (title: string) => tables(parts.get(title)!);
    const cell = (rows: string[][], first: string, col: number) => rows.find((r) => r[0]!.startsWith(first))?.[col];

    // Call setup: three rows, medians on and off and their ratio.
    const [setup] = t(SECTIONS[0]!);
    expect(setup!.map((r) => r[0])).toEqual(['doctor sees the patient', 'patient sees the doctor', 'both see each other']);
    for (const r of setup!) for (const c of [1, 3, 5]) expect(r[c], `${r[0]} col ${c}`).toMatch(num);

    // E2EE cost: CPU with no transform, pass-through and E2EE on, their differences, the frame Workers, decoded
    // video; crypto in the Worker and in Node per size. One round here: no spread, so plain numbers.
    const [cpu, crypto] = t(SECTIONS[1]!);
    for (const first of ['all (', 'renderers', '· Worker threads']) for (const c of [1, 2, 3, 4, 5, 6]) expect(cell(cpu!, first, c), `${first} col ${c}`).toMatch(num);
    for (const c of [1, 2, 3]) expect(cell(cpu!, 'decoded video', c)).toMatch(/\d+; \d+ fps, \d+×\d+/);
    expect(parts.get(SECTIONS[1]!)).toMatch(/E2EE adds -?\d+\.\d % \(plumbing -?\d+\.\d %, crypto -?\d+\.\d %\)/);
    expect(crypto!.map((r) => r[0])).toEqual(['100 B', '6 KB', '100 KB']);
    for (const r of crypto!) for (const c of [1, 2, 3, 4]) expect(r[c], `${r[0]} col ${c}`).toMatch(/^\d+\.\d+ \/ \d+\.\d+$/);

    // Capacity: N = 1 and 2, every figure measured, and every sampled frame opened under its SFrame key.
    const [cap] = t(SECTIONS[2]!);
    expect(cap!.map((r) => r[0])).toEqual(['1', '2']);
    for (const r of cap!) expectStep(r);
    expect(parts.get(SECTIONS[2]!)).toMatch(/Largest N with < 1 % loss and < 80 % CPU: (\d+|none)/);

    // Nodes: the summary (1, 2, 3 nodes: largest N, per node, ratio to 1 node), then each node count's steps.
    const [summary, ...perNodes] = t(SECTIONS[3]!);
    expect(summary!.map((r) => r[0])).toEqual(['1', '2', '3']);
    for (const r of summary!) for (const c of [1, 2, 3, 4]) expect(r[c], `nodes=${r[0]} col ${c}`).toMatch(num);
    expect(perNodes).toHaveLength(3);
    for (const steps of perNodes) {
      expect(steps.map((r) => r[0])).toEqual(['2']);
      for (const r of steps) expectStep(r);
    }

    // Memory: heap samples over the run, server RSS before/during.
    const [heap, server] = t(SECTIONS[4]!);
    expect(heap!.length).toBeGreaterThan(2);
    for (const r of heap!) for (const c of [0, 2, 3]) expect(r[c]).toMatch(num);
    expect(server!.length).toBe(3);
    for (const r of server!) for (const c of [1, 2, 3]) expect(r[c]).toMatch(num);

    // Server memory: a server process of its own, RSS at 0 and 2 live consultations, and the slope.
    const [serverMemory] = t(SECTIONS[5]!);
    expect(serverMemory!.map((r) => r[0])).toEqual(['0', '2']);
    for (const r of serverMemory!) for (const c of [1, 2, 3]) expect(r[c]).toMatch(num);
    expect(parts.get(SECTIONS[5]!)).toMatch(/Per live consultation \(least-squares slope\): Node process -?\d+\.\d+ MB, SFU worker -?\d+\.\d+ MB/);

    // Failover: the hosting node SIGKILLed once, the room moved to another node, the time measured.
    const [failover] = t(SECTIONS[6]!);
    expect(failover).toHaveLength(1);
    const [run, killed, movedTo, ms] = failover![0]!;
    expect(run).toBe('1');
    expect(killed).toMatch(/^node-[abc]$/);
    expect(movedTo).toMatch(/^node-[abc]$/);
    expect(movedTo).not.toBe(killed);
    expect(ms).toMatch(num);
  });
});
