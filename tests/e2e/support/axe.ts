// axe-core (the dev dependency) injected into a Playwright page: returns the
// accessibility violations of what the page shows now. Injected with
// page.evaluate (DevTools protocol), which the app's strict CSP does not
// block, so the page under test runs with its real headers.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** One violated rule, with the elements (CSS selectors) that break it. */
export interface AxeViolation {
  id: string;
  impact: string | null | undefined;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core's default rule set (WCAG 2.x A and AA, best practices) on
 * the whole document and returns the violations (an empty array when clean).
 * Elements hidden from everyone (display:none, hidden) are not audited, as
 * axe does by default.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (window as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(`${axeSource}\n;undefined`);
  return page.evaluate(async () => {
    type Result = { violations: { id: string; impact?: string | null; help: string; nodes: { target: unknown[] }[] }[] };
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<Result> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

/** A readable one-line-per-rule summary for assertion messages. */
export function describeViolations(violations: AxeViolation[]): string {
  return violations.map((v) => `${v.id} (${v.impact ?? '?'}): ${v.help} — ${v.targets.slice(0, 5).join(', ')}`).join('\n');
}
