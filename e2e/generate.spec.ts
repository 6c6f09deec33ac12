// Generate and explain on the Llama demo: the prompt continued greedily and then by sampling, the
// whole text run once, the generated tokens marked in the heatmap, each explained from the
// position before it (the model's own prediction there when greedy, a chosen target when a
// sampled token was not the most likely), the JSON and the figures saying what was generated, and
// a link that brings the marks, the explanations and the strip to a fresh browser.

import type { Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DepassResult } from '../src/depass/result';
import { ROOT, expect, needs, runAndWait, test } from './fixtures';

const DEMO = resolve(ROOT, 'public/models/demo-llama/config.json');
const PROMPT = 'Lily saw a';

async function download(page: Page, click: () => Promise<unknown>): Promise<string> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()]);
  return readFileSync(await d.path(), 'utf8');
}

type Exported = DepassResult & { generated?: { first: number; temperature: number; seed: number } };
const exportJson = async (page: Page) =>
  JSON.parse(await download(page, () => page.getByRole('button', { name: 'Export JSON', exact: true }).click())) as Exported;

/** Positions the heatmap marks as generated, and the strip's buttons' positions. */
async function marks(page: Page) {
  return {
    chips: await page.locator('#heatmap g.tok[data-generated="true"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-position')))),
    strip: await page
      .getByTestId('generated')
      .getByRole('button')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-position')))),
  };
}

/** Clicks the strip's button for `p` and checks that the views explain the token at p from p - 1. */
async function explain(page: Page, p: number, token: string) {
  await page.getByTestId('generated').locator(`button[data-position="${p}"]`).click();
  await expect(page.getByTestId('generated').locator(`button[data-position="${p}"]`)).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('#heatmap g.tok[aria-selected="true"]')).toHaveAttribute('data-position', String(p - 1));
  await expect(page.locator('#prediction .target-line')).toContainText(token.trim());
}

test('generate and explain: generated tokens are marked, each explained from the position before it, in exports and through a link', async ({
  page,
  browser,
  baseURL,
}) => {
  needs(existsSync(DEMO), 'public/models/demo-llama is not in this checkout');
  test.setTimeout(360_000);
  await page.goto('/');
  await page.getByRole('button', { name: 'Load Llama demo' }).click();
  await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
  await page.locator('#prompt').fill(PROMPT);
  await page.getByLabel('Tokens to generate').fill('4');
  await runAndWait(page, () => page.getByRole('button', { name: 'Generate 4 tokens' }).click());

  // Greedy: the text grew, its new tokens are marked, and the model's prediction before each is that token.
  const text = await page.locator('#prompt').inputValue();
  expect(text.startsWith(PROMPT) && text.length > PROMPT.length, text).toBe(true);
  const json = await exportJson(page);
  expect(json.prompt).toBe(text);
  const first = json.tokens.findIndex((t) => t.start >= PROMPT.length);
  expect(first).toBeGreaterThan(0);
  expect(json.generated).toEqual({ first, temperature: 0, seed: 1 });
  const generated = json.tokens.map((_, p) => p).filter((p) => p >= first);
  expect(generated.length).toBeGreaterThan(0);
  expect(generated.length).toBeLessThanOrEqual(4);
  expect(await marks(page)).toEqual({ chips: generated, strip: generated });
  for (const p of generated) expect(json.targets.find((t) => t.position === p - 1)?.id, `prediction at ${p - 1}`).toBe(json.tokens[p].id);
  // Explaining a greedy token needs no further run: the one token-mode pass holds it.
  const runs = await page.getByTestId('run-row').getAttribute('data-runs');
  await explain(page, generated[generated.length - 1], json.tokens[generated[generated.length - 1]].text);
  await expect(page.getByTestId('run-row')).toHaveAttribute('data-runs', runs!);

  // Sampled, with a seed, from the prompt again: the tokens that were not the model's first choice
  // become chosen targets when clicked.
  await page.locator('#prompt').fill(PROMPT);
  await page.getByLabel('Tokens to generate').fill('6');
  await page.getByLabel('Temperature').fill('3');
  await page.getByLabel('Seed').fill('7');
  await runAndWait(page, () => page.getByRole('button', { name: 'Generate 6 tokens' }).click());
  const sampled = await exportJson(page);
  expect(sampled.prompt.startsWith(PROMPT)).toBe(true);
  expect(sampled.generated).toMatchObject({ temperature: 3, seed: 7 });
  const from = sampled.generated!.first;
  expect(sampled.tokens[from].start).toBeGreaterThanOrEqual(PROMPT.length);
  const positions = sampled.tokens.map((_, p) => p).filter((p) => p >= from);
  expect((await marks(page)).strip).toEqual(positions);
  const notFirstChoice = positions.filter((p) => sampled.targets.find((t) => t.position === p - 1)?.id !== sampled.tokens[p].id);
  for (const p of positions) {
    const before = Number(await page.getByTestId('run-row').getAttribute('data-runs'));
    await explain(page, p, sampled.tokens[p].text);
    await expect(page.getByTestId('run-row')).toHaveAttribute('data-runs', String(before + (notFirstChoice.includes(p) ? 1 : 0)));
    await expect(page.getByTestId('run-row')).toHaveAttribute('data-running', 'no');
  }
  const chosen = await exportJson(page);
  for (const p of notFirstChoice) {
    expect(
      chosen.targets.some((t) => t.position === p - 1 && t.id === chosen.tokens[p].id && t.contrast_id === null),
      `chosen target at ${p - 1}`,
    ).toBe(true);
  }
  // Figures say which tokens were generated, and how.
  const svg = await download(page, () => page.getByRole('button', { name: 'Export Token attribution as SVG' }).click());
  expect(svg).toContain(`tokens ${from}–${sampled.tokens.length - 1} generated by the model (sampled from the top five, temperature 3, seed 7)`);

  // The link: the same marks and strip in a fresh browser, and each token still explained from the position before it.
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const url = await page.getByTestId('share-url').inputValue();
  await page.keyboard.press('Escape');
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 } });
  const p2 = await ctx.newPage();
  await p2.goto(url);
  await expect(p2.getByTestId('shared-banner')).toBeVisible();
  await expect(p2.locator('#prompt')).toHaveValue(sampled.prompt);
  expect(await marks(p2)).toEqual({ chips: positions, strip: positions });
  await expect(p2.getByTestId('generated')).toContainText('temperature 3, seed 7');
  for (const p of positions) await explain(p2, p, sampled.tokens[p].text);
  await expect(p2.getByRole('alert')).toHaveCount(0);
  await ctx.close();
});
