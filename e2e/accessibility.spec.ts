// axe-core in every state of the app a person reaches: the first page, a demo model loaded, a run
// with every mode, a head pinned, and a shared link opened. A serious or critical violation fails;
// review items pass only when listed, with a reason, in a11y.ts. Every state's figures are
// written to e2e/artifacts/axe.json. Later views add their states to LATER_STATES.

import type { Page } from '@playwright/test';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { failures, runAxe } from './a11y';
import { ARTIFACTS, ROOT, expect, needs, runAndWait, test } from './fixtures';

const DEMO = resolve(ROOT, 'public/models/demo-llama/config.json');

interface State {
  name: string;
  /** Brings the page from the state before into this one. */
  reach(page: Page): Promise<void>;
}

const STATES: State[] = [
  { name: 'initial page', reach: async (page) => void (await page.goto('/')) },
  {
    name: 'demo loaded',
    reach: async (page) => {
      await page.getByRole('button', { name: 'Load Llama demo' }).click();
      await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
      await expect(page.getByTestId('prompt-tokens')).toContainText('tok');
    },
  },
  {
    name: 'run with every mode',
    reach: async (page) => {
      for (const m of ['tokens', 'heads', 'neurons', 'modules']) await page.getByRole('checkbox', { name: m, exact: true }).check();
      await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
      await expect(page.locator('#neurons .neuron-row').first()).not.toContainText('…');
    },
  },
  {
    name: 'head pinned',
    reach: async (page) => {
      await page.locator('#heads .cell').nth(1).click();
      await expect(page.locator('#heads .attention image')).toBeVisible();
    },
  },
  {
    name: 'shared link',
    reach: async (page) => {
      await page.getByRole('button', { name: 'Share', exact: true }).click();
      const url = await page.getByTestId('share-url').inputValue();
      await page.keyboard.press('Escape');
      await page.goto('about:blank');
      await page.goto(url);
      await expect(page.getByTestId('shared-banner')).toBeVisible();
      await expect(page.locator('#heads .cell').first()).toBeVisible();
    },
  },
];

/**
 * The comparison view and the generation view join here once they exist, each as a state reached
 * from the shared-link state above (or from a fresh page, which `reach` may open itself).
 */
const LATER_STATES: State[] = [
  {
    name: 'comparison of two prompts',
    reach: async (page) => {
      // From a fresh page: a shared run is read-only, so the comparison is made live.
      await page.goto('/');
      await page.getByRole('button', { name: 'Load Llama demo' }).click();
      await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
      await expect(page.getByTestId('prompt-tokens')).toContainText('tok');
      await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
      await page.getByRole('button', { name: 'Copy the first prompt' }).click();
      await page.locator('#compare-prompt').fill(`${await page.locator('#compare-prompt').inputValue()} again`);
      await page.getByRole('button', { name: 'Compare', exact: true }).click();
      await expect(page.getByTestId('compare-row')).toHaveAttribute('data-has-second', 'yes');
      await expect(page.getByTestId('compare-row')).toHaveAttribute('data-comparing', 'no');
      for (const id of ['compare-tokens', 'compare-heads', 'compare-flow', 'compare-layers']) await expect(page.locator(`#${id} svg`).first()).toBeVisible();
    },
  },
  {
    name: 'shared comparison',
    reach: async (page) => {
      await page.getByRole('button', { name: 'Share', exact: true }).click();
      const url = await page.getByTestId('share-url').inputValue();
      await page.keyboard.press('Escape');
      await page.goto('about:blank');
      await page.goto(url);
      await expect(page.getByTestId('shared-banner')).toBeVisible();
      await expect(page.getByTestId('compare-bar')).toBeVisible();
      await expect(page.locator('#compare-heads .diff-cell').first()).toBeVisible();
    },
  },
];

test('axe-core finds no serious or critical violation in any state', async ({ page }) => {
  needs(existsSync(DEMO), 'public/models/demo-llama is not in this checkout');
  test.setTimeout(480_000);
  const figures: Record<string, { violations: Record<string, number>; incomplete: Record<string, number> }> = {};
  const problems: string[] = [];
  for (const state of [...STATES, ...LATER_STATES]) {
    await state.reach(page);
    await page.mouse.move(0, 0);
    const report = await runAxe(page);
    // Per rule and impact, and for review items per axe's reason (bgOverlap, bgGradient, …).
    const count = (rs: typeof report.violations) => {
      const out: Record<string, number> = {};
      for (const r of rs)
        for (const n of r.nodes) {
          const why = (n.any[0]?.data as { messageKey?: string } | undefined)?.messageKey;
          const key = `${r.id} (${r.impact})${why ? `: ${why}` : ''}`;
          out[key] = (out[key] ?? 0) + 1;
        }
      return out;
    };
    figures[state.name] = { violations: count(report.violations), incomplete: count(report.incomplete) };
    const f = failures(report);
    problems.push(...f.violations.map((v) => `${state.name}: ${v}`), ...f.unreviewed.map((v) => `${state.name}: not reviewed: ${v}`));
    console.log(`${state.name}: ${JSON.stringify(figures[state.name])}`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'axe.json'), JSON.stringify(figures, null, 1));
  expect(problems, 'serious and critical accessibility problems').toEqual([]);
});
