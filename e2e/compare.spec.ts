// Comparing two prompts in the browser (stories260K, a minimal pair): each prompt is run alone and
// its Export JSON kept; then the comparison is made, and every difference it shows (aligned token
// scores, head scores, the flow graph's nodes, the logits) is checked against differences the test
// works out from the two single runs' JSON. Exports name both runs; a shared link of the comparison
// reopens the same comparison (numbers within the link's quantisation) in a fresh page, and its
// live re-run gives the engine's numbers again. A second target on the same prompt is checked
// against the single run's chosen-target JSON the same way.

import type { Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DepassResult } from '../src/depass/result';
import { ARTIFACTS, NO_STORIES, expect, haveStories, loadStories, needs, runAndWait, runPrompt, test } from './fixtures';

const FIRST = 'The girl said that she';
const SECOND = 'The boy said that he';

async function download(page: Page, click: () => Promise<unknown>): Promise<string> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()]);
  return readFileSync(await d.path(), 'utf8');
}

const exportJson = async (page: Page, name: string) =>
  JSON.parse(await download(page, () => page.getByRole('button', { name, exact: true }).click())) as DepassResult;

const maxAbs = (xs: number[]) => xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const at = (r: DepassResult, position: number) => r.targets.findIndex((t) => t.position === position);
const numAttr = async (page: Page, selector: string, name: string) => Number(await page.locator(selector).getAttribute(name));

/** A printed number ("−0.12") back to a value, and half a unit of its last digit. */
function printed(text: string): { value: number; half: number } {
  const t = text.trim().replace('−', '-');
  const dec = t.includes('.') ? t.length - t.indexOf('.') - 1 : 0;
  return { value: Number(t), half: 0.5 * 10 ** -dec };
}

/**
 * Every difference the comparison views show at positions (pa, pb), against first − second worked
 * out here from the two single runs' JSON; `tol(row)` is the error allowed for a row of scores.
 */
async function expectDifferences(page: Page, A: DepassResult, B: DepassResult, pa: number, pb: number, tol: (row: number[]) => number, what: string) {
  const ia = at(A, pa);
  const ib = at(B, pb);
  const ta = A.token!.scores[ia];
  const tb = B.token!.scores[ib];
  const tokTol = tol(ta) + tol(tb);
  // Minimal pair of equal length: the columns are the positions, one by one.
  const pairs = page.locator('#compare-tokens g.pair');
  await expect(pairs, `${what}: aligned columns`).toHaveCount(pa + 1);
  for (let k = 0; k <= pa; k++) {
    const col = pairs.nth(k);
    await expect(col).toHaveAttribute('data-first-position', String(k));
    await expect(col).toHaveAttribute('data-second-position', String(k));
    const want = ta[k] - tb[k];
    const got = Number(await col.getAttribute('data-diff'));
    expect(Math.abs(got - want), `${what}: token ${k} difference ${got} vs ${want}`).toBeLessThanOrEqual(tokTol + 1e-5);
    const shown = printed((await col.locator('.diff-value').textContent()) ?? '');
    expect(Math.abs(shown.value - want), `${what}: token ${k} printed difference`).toBeLessThanOrEqual(shown.half + tokTol + 1e-5);
  }
  const logit = A.targets[ia].logit - B.targets[ib].logit;
  expect(Math.abs((await numAttr(page, '[data-testid="compare-logits"]', 'data-diff')) - logit), `${what}: logit difference`).toBeLessThanOrEqual(2e-3);

  const ha = A.head!.scores[ia];
  const hb = B.head!.scores[ib];
  const headTol = tol(ha.flat()) + tol(hb.flat());
  const cells = page.locator('#compare-heads g.diff-cell');
  await expect(cells, `${what}: head cells`).toHaveCount(5 * 8);
  for (let l = 0; l < 5; l++)
    for (let h = 0; h < 8; h++) {
      const got = await numAttr(page, `#compare-heads g.diff-cell[data-layer="${l}"][data-head="${h}"]`, 'data-diff');
      expect(Math.abs(got - (ha[l][h] - hb[l][h])), `${what}: L${l} H${h} difference`).toBeLessThanOrEqual(headTol + 1e-5);
    }

  // The flow graph of the difference: its nodes carry the same differences.
  const target = await numAttr(page, '#compare-flow g.node[data-node="target"]', 'data-score');
  expect(Math.abs(target - logit), `${what}: flow target`).toBeLessThanOrEqual(2e-3);
  const tokens = page.locator('#compare-flow g.node.token');
  const n = await tokens.count();
  expect(n, `${what}: flow source tokens`).toBeGreaterThan(0);
  for (let k = 0; k < n; k++) {
    const s = Number((await tokens.nth(k).getAttribute('data-node'))!.slice(1));
    const got = Number(await tokens.nth(k).getAttribute('data-score'));
    expect(Math.abs(got - (ta[s] - tb[s])), `${what}: flow token ${s}`).toBeLessThanOrEqual(tokTol + 1e-5);
  }
  const heads = page.locator('#compare-flow g.node.head');
  for (let k = 0; k < (await heads.count()); k++) {
    const [l, h] = (await heads.nth(k).getAttribute('data-node'))!.slice(1).split('.').map(Number);
    const got = Number(await heads.nth(k).getAttribute('data-score'));
    expect(Math.abs(got - (ha[l][h] - hb[l][h])), `${what}: flow head L${l} H${h}`).toBeLessThanOrEqual(headTol + 1e-5);
  }
  // Both runs' layer charts, on one set of axes.
  await expect(page.locator('#compare-layers [data-series="first:0"] path')).toHaveCount(1);
  await expect(page.locator('#compare-layers [data-series="second:0"] path')).toHaveCount(1);
}

test('a comparison of a minimal pair shows the right differences, exports both runs and survives a link', async ({ page }) => {
  needs(haveStories, NO_STORIES);
  test.setTimeout(480_000);
  await page.goto('/');
  await loadStories(page);

  // The two single runs, each exported as the result format.
  await runPrompt(page, SECOND, ['tokens', 'heads']);
  const B = await exportJson(page, 'Export JSON');
  await runPrompt(page, FIRST, ['tokens', 'heads']);
  const A = await exportJson(page, 'Export JSON');
  expect(A.tokens.length).toBe(8);
  expect(B.tokens.length).toBe(8);

  // The comparison: the second prompt beside the first.
  await page.locator('#compare-prompt').fill(SECOND);
  const row = page.getByTestId('compare-row');
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await expect(row).toHaveAttribute('data-has-second', 'yes');
  await expect(row).toHaveAttribute('data-comparing', 'no');
  await expect(page.getByTestId('compare-bar')).toContainText(`second “${SECOND}” at position 7`);
  const live = () => 1e-4;
  await expectDifferences(page, A, B, 7, 7, live, 'live, last position');

  // Another position of the first run: the second follows it through the alignment.
  await page.locator('#heatmap g.tok').nth(5).click();
  await expectDifferences(page, A, B, 5, 5, live, 'live, position 5');
  await page.locator('#heatmap g.tok').nth(7).click();

  // The second run's own export is the single run's result.
  const second = await exportJson(page, 'Export second JSON');
  expect(second.prompt).toBe(SECOND);
  expect(maxAbs(second.token!.scores.flat().map((v, k) => v - B.token!.scores.flat()[k]))).toBeLessThanOrEqual(1e-4);

  // Exported pictures of a comparison carry both runs' captions.
  const svg = await download(page, () => page.getByRole('button', { name: 'Export Heads compared as SVG' }).click());
  expect(svg).toContain(`first prompt: “${FIRST}” (8 tokens)`);
  expect(svg).toContain(`second prompt: “${SECOND}” (8 tokens)`);
  expect(svg).toContain('differences are first − second');
  await page.screenshot({ path: join(ARTIFACTS, 'comparison.png'), fullPage: true });

  // Share: the link holds both runs, the second after its own key.
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const url = await page.getByTestId('share-url').inputValue();
  expect(url).toMatch(/#run=2\.[A-Za-z0-9_-]+&vs=2\.[A-Za-z0-9_-]+$/);
  console.log(`comparison link, stories260K, two 8-token token+head runs with per-layer detail: ${url.length} characters`);
  await page.keyboard.press('Escape');

  // A fresh page opens the same comparison from the link alone (no model loaded).
  const p2 = await page.context().newPage();
  await p2.goto(url);
  await expect(p2.getByTestId('shared-banner')).toBeVisible();
  await expect(p2.getByTestId('compare-bar')).toContainText(`first “${FIRST}” at position 7`);
  await expect(p2.getByTestId('compare-bar')).toContainText(`second “${SECOND}” at position 7`);
  const quantised = (row: number[]) => maxAbs(row) / 254 + 1e-6;
  await expectDifferences(p2, A, B, 7, 7, quantised, 'shared link');
  // Its own Share gives a link of the same comparison again.
  await p2.getByRole('button', { name: 'Share', exact: true }).click();
  const again = await p2.getByTestId('share-url').inputValue();
  expect(again).toContain('&vs=2.');
  await p2.keyboard.press('Escape');
  // With the model loaded, one click re-runs both runs live: the engine's numbers again.
  await loadStories(p2);
  const row2 = p2.getByTestId('compare-row');
  const before = Number(await row2.getAttribute('data-compared'));
  await p2.getByRole('button', { name: 'Re-run live with the loaded model' }).click();
  await expect(row2).toHaveAttribute('data-compared', String(before + 1));
  await expect(p2.getByTestId('shared-banner')).toHaveCount(0);
  await expectDifferences(p2, A, B, 7, 7, live, 'live re-run of the link');
  await p2.close();
  const p3 = await page.context().newPage();
  await p3.goto(again);
  await expect(p3.getByTestId('shared-banner')).toBeVisible();
  await expect(p3.getByTestId('compare-bar')).toContainText(`second “${SECOND}” at position 7`);
  await expectDifferences(p3, A, B, 7, 7, (row) => 2 * quantised(row), 'link of a shared link');
  await p3.close();
});

test('a second target on the same prompt is compared with the prediction, as the single run’s chosen target says', async ({ page }) => {
  needs(haveStories, NO_STORIES);
  test.setTimeout(360_000);
  await page.goto('/');
  await loadStories(page);
  await runPrompt(page, FIRST, ['tokens', 'heads']);
  const A = await exportJson(page, 'Export JSON');
  // The single run's own chosen target at the last position: the model's second choice.
  await runAndWait(page, () => page.locator('#prediction .pred-row').nth(1).click());
  const T = await exportJson(page, 'Export target JSON');
  expect(T.targets).toHaveLength(1);
  const target = T.targets[0];
  expect(target.position).toBe(7);
  // Back to the prediction there (no run: the prediction is the main run's own).
  await page.locator('#prediction .pred-row').nth(0).click();
  await expect(page.locator('#prediction .target-line')).not.toContainText('chosen');

  await page.getByRole('button', { name: 'Copy the first prompt' }).click();
  await expect(page.locator('#compare-prompt')).toHaveValue(FIRST);
  await page.getByLabel("Second run's target token (optional)").fill(`#${target.id}`);
  await expect(page.getByTestId('compare-target')).toContainText(`#${target.id}`);
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await expect(page.getByTestId('compare-row')).toHaveAttribute('data-has-second', 'yes');
  await expect(page.getByTestId('compare-row')).toHaveAttribute('data-comparing', 'no');
  await expectDifferences(page, A, T, 7, 7, () => 1e-4, 'second target');
});
