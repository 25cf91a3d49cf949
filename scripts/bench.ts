/**
 * `npm run bench`: runs each benchmark section in turn. Add a section by
 * appending one entry to SECTIONS.
 */
import { benchSframe, printSframe } from './bench-sframe.ts';

const SECTIONS: { title: string; run: () => Promise<void> }[] = [
  { title: 'SFrame (RFC 9605)', run: async () => printSframe(await benchSframe()) },
];

for (const s of SECTIONS) {
  console.log(`\n## ${s.title}\n`);
  await s.run();
}
