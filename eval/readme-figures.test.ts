// The README's faithfulness figures come from the evaluation's JSON report, kept in
// docs/eval-results.json: every percentage and correlation quoted in that section must be a
// figure of the report, and the report must have the shape the evaluation writes today.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEAD_METHODS, TOKEN_METHODS } from './faithfulness';
import { EFFECT_METHODS } from './token-effects';

const readme = readFileSync(resolve(process.cwd(), 'README.md'), 'utf8');
const report = JSON.parse(readFileSync(resolve(process.cwd(), 'docs/eval-results.json'), 'utf8')) as {
  demo: { model: string; probes: number; headCounts: Record<string, number>; kinds: Record<string, Record<string, unknown>> }[];
  stories: {
    prompts: number;
    spearman: Record<string, number>;
    top1Agreement: Record<string, number>;
    deletion: Record<string, Record<string, number>>;
  } | null;
  validation: Record<string, { generated: number; kept: number; dropped: Record<string, number> }>;
};

/** The README section that quotes the evaluation: from its heading to the next second-level heading. */
function section(): string {
  const start = readme.indexOf('## Faithfulness');
  expect(start, 'README has a "## Faithfulness" section').toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 3);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Every number in the report, as the README writes them: percentages to one decimal, correlations to two. */
function reportFigures(): { pct: Set<string>; corr: Set<string>; ints: Set<string> } {
  const pct = new Set<string>();
  const corr = new Set<string>();
  const ints = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'number') {
      pct.add(`${(100 * v).toFixed(1)}%`);
      corr.add(v.toFixed(2));
      if (Number.isInteger(v)) ints.add(String(v));
    } else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(report);
  return { pct, corr, ints };
}

describe('README faithfulness figures', () => {
  it('are figures of docs/eval-results.json', () => {
    const text = section();
    const { pct, corr, ints } = reportFigures();
    const percents = [...text.matchAll(/-?\d+\.\d%/g)].map((m) => m[0]);
    const correlations = [...text.matchAll(/(?<![\d.])-?[01]\.\d\d(?![\d%])/g)].map((m) => m[0]);
    const counts = [...text.matchAll(/(\d+) (?:held-out )?(?:probes|prompts)\b/g)].map((m) => m[1]);
    expect(percents.length).toBeGreaterThan(50);
    expect(correlations.length).toBeGreaterThan(5);
    expect(percents.filter((p) => !pct.has(p))).toEqual([]);
    expect(correlations.filter((c) => !corr.has(c))).toEqual([]);
    expect(counts.filter((c) => !ints.has(c))).toEqual([]);
  });

  it('come from a report of the shape the evaluation writes now', () => {
    expect(report.demo.map((r) => r.model).sort()).toEqual(['demo-gpt2', 'demo-llama']);
    for (const r of report.demo) {
      expect(Object.keys(r.kinds)).toContain('non-lexical');
      for (const k of Object.values(r.kinds)) {
        expect(Object.keys(k).sort()).toEqual([
          'accuracy',
          'deletion',
          'effectTopIsSource',
          'headMasking',
          'lexical',
          'n',
          'topEffectAgreement',
          'topSourceHit',
          'topSourceHitContrast',
          'topSourceHitProportional',
        ]);
        expect(Object.keys(k.topSourceHit as object).sort()).toEqual([...TOKEN_METHODS].sort());
        expect(Object.keys(k.headMasking as object).sort()).toEqual([...HEAD_METHODS].sort());
        expect(Object.keys(k.topEffectAgreement as object).sort()).toEqual([...TOKEN_METHODS].sort());
      }
    }
    expect(report.stories, 'the report includes stories260K').not.toBeNull();
    expect(report.stories!.prompts).toBeGreaterThanOrEqual(50);
    expect(Object.keys(report.stories!.spearman).sort()).toEqual([...EFFECT_METHODS].sort());
    expect(Object.keys(report.validation).length).toBeGreaterThanOrEqual(6);
  });
});
