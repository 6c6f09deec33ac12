// axe-core, from the npm package (never fetched from elsewhere), run inside a page. The script is
// evaluated through the DevTools protocol, which the page's Content-Security-Policy does not
// govern, so the app is checked under its real policy. Shared by the accessibility specs.

import type { Page } from '@playwright/test';
import type { AxeResults, ImpactValue, Result } from 'axe-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Impacts that fail a test. */
export const FAILING: ImpactValue[] = ['serious', 'critical'];

/**
 * What axe may flag for review ("incomplete") without failing, each with the reason a person
 * checked it and found it fine. Only review items may be listed here, never violations.
 */
export const REVIEWED: Record<string, string> = {
  'color-contrast':
    'axe cannot work out the background of text drawn over SVG shapes (bgOverlap), inside an SVG beside an image (imgNode) ' +
    'or of one or two characters (shortTextContent). Chart text on coloured cells takes the scale’s ink, black or white, ' +
    'whichever contrasts more, at least 4.58:1 at every shade (colors.test.ts); the rest is dark grey on white.',
};

export interface AxeReport {
  violations: Result[];
  incomplete: Result[];
}

/** Runs axe on the whole page with every rule, the experimental ones included. */
export async function runAxe(page: Page): Promise<AxeReport> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: typeof import('axe-core') }).axe;
    const experimental = axe.getRules(['experimental']).map((r) => r.ruleId);
    return (await axe.run(document, {
      rules: Object.fromEntries(experimental.map((id) => [id, { enabled: true }])),
      resultTypes: ['violations', 'incomplete'],
    })) as AxeResults;
  });
  return { violations: results.violations, incomplete: results.incomplete };
}

/** One line per offending node: rule, impact, target, and axe's own summary. */
export function describe(results: Result[]): string[] {
  return results.flatMap((r) =>
    r.nodes.map((n) => `${r.id} (${r.impact ?? n.impact}): ${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(0, 2).join(' ') ?? r.help}`),
  );
}

/** Serious or critical violations, and review items of that impact that nobody has reviewed. */
export function failures(report: AxeReport): { violations: string[]; unreviewed: string[] } {
  const bad = (r: Result) => FAILING.includes(r.impact ?? 'minor') || r.nodes.some((n) => FAILING.includes(n.impact ?? 'minor'));
  return {
    violations: describe(report.violations.filter(bad)),
    unreviewed: describe(report.incomplete.filter((r) => bad(r) && !(r.id in REVIEWED))),
  };
}
