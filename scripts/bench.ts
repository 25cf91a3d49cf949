/**
 * `npm run bench`: runs each benchmark section in turn. Add a section by
 * appending one entry to SECTIONS. `npm run bench -- <word>…` runs only the
 * sections whose title contains one of the words (e.g. `-- capacity memory`).
 * Sections that drive Chromium or load the CPU belong under the shared lock:
 * `flock /tmp/confide-browser.lock npm run bench`.
 */
import { benchSframe, printSframe } from './bench-sframe.ts';
import { benchKeys, printKeys } from './bench-keys.ts';
import { benchResilience, printResilience } from './bench-resilience.ts';
import { benchCallSetup, benchE2eeCost, printCallSetup, printE2eeCost } from './bench-browser.ts';
import { benchCapacity, printCapacity } from './bench-capacity.ts';
import { benchNodes, printNodes } from './bench-nodes.ts';
import { benchMemory, printMemory } from './bench-memory.ts';
import { benchFailover, printFailover } from './bench-failover.ts';
import { benchServerMemory, printServerMemory } from './bench-server-memory.ts';
import { machineInfo } from './bench/proc.ts';

const SECTIONS: { title: string; run: () => Promise<void> }[] = [
  { title: 'SFrame (RFC 9605)', run: async () => printSframe(await benchSframe()) },
  { title: 'Key agreement', run: async () => printKeys(await benchKeys()) },
  { title: 'Resilience', run: async () => printResilience(await benchResilience()) },
  { title: 'Call setup, E2EE on and off', run: async () => printCallSetup(await benchCallSetup()) },
  { title: 'E2EE cost inside Chromium', run: async () => printE2eeCost(await benchE2eeCost()) },
  { title: 'SFU capacity', run: async () => printCapacity(await benchCapacity()) },
  { title: 'SFU nodes', run: async () => printNodes(await benchNodes()) },
  { title: 'Memory', run: async () => printMemory(await benchMemory()) },
  { title: 'Server memory per consultation', run: async () => printServerMemory(await benchServerMemory()) },
  { title: 'Failover of a node', run: async () => printFailover(await benchFailover()) },
];

const only = process.argv.slice(2).map((w) => w.toLowerCase());
// A word that names no section would otherwise be skipped without a word (`-- keys` is not "Key agreement").
const unknown = only.filter((w) => !SECTIONS.some((x) => x.title.toLowerCase().includes(w)));
if (unknown.length) {
  console.error(`No bench section matches ${unknown.map((w) => `"${w}"`).join(', ')}. Sections: ${SECTIONS.map((x) => `"${x.title}"`).join(', ')}.`);
  process.exit(2);
}
console.log(`Machine: ${machineInfo()}`);
for (const s of SECTIONS.filter((x) => only.length === 0 || only.some((w) => x.title.toLowerCase().includes(w)))) {
  console.log(`\n## ${s.title}\n`);
  const t0 = Date.now();
  await s.run();
  console.log(`\n(${s.title}: ${Math.round((Date.now() - t0) / 1000)} s of wall time)`);
}
