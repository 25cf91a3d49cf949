/**
 * `npm run bench`: runs each benchmark section in turn. Add a section by
 * appending one entry to SECTIONS.
 */
import { benchSframe, printSframe } from './bench-sframe.ts';
import { benchKeys, printKeys } from './bench-keys.ts';
import { benchResilience, printResilience } from './bench-resilience.ts';

const SECTIONS: { title: string; run: () => Promise<void> }[] = [
  { title: 'SFrame (RFC 9605)', run: async () => printSframe(await benchSframe()) },
  { title: 'Key agreement', run: async () => printKeys(await benchKeys()) },
  { title: 'Resilience', run: async () => printResilience(await benchResilience()) },
];

const only = process.argv[2];
for (const s of SECTIONS.filter((x) => !only || x.title.toLowerCase().includes(only.toLowerCase()))) {
  console.log(`\n## ${s.title}\n`);
  await s.run();
}
