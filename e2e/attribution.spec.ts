// The main path a researcher takes: load stories260K through the file input, run token and head
// modes, select tokens with the mouse and the keyboard, change the target, and export the run as
// JSON, which must be complete (Σ scores + rest = logit) and agree with the CLI's output.

import type { Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DepassResult } from '../src/depass/result';
import { ARTIFACTS, NO_STORIES, backendShown, cliResult, expect, groupNeeds, haveStories, loadStories, runAndWait, runPrompt, test } from './fixtures';

const PROMPT = 'Once upon a time';

async function exportJson(page: Page, button: string): Promise<{ name: string; result: DepassResult }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button, exact: true }).click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), result: JSON.parse(readFileSync(path, 'utf8')) as DepassResult };
}

function maxAbsOf(xs: number[]): number {
  return xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/** Σ token scores + rest equals each target's logit within 1e-3 relative. */
function expectComplete(r: DepassResult): void {
  expect(r.token, 'token mode is in the result').toBeDefined();
  r.targets.forEach((t, i) => {
    const sum = r.token!.scores[i].reduce((a, b) => a + b, 0) + r.token!.rest[i];
    expect(Math.abs(sum - t.logit), `completeness at position ${t.position}`).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(t.logit)));
  });
}

/** App export vs CLI output: same tokens and targets, every score within 1e-3 of the largest. */
function expectSameAsCli(app: DepassResult, cli: DepassResult): void {
  expect(app.format).toBe(cli.format);
  expect(app.model.fingerprint).toBe(cli.model.fingerprint);
  expect(app.tokens).toEqual(cli.tokens);
  expect(app.targets.map((t) => [t.position, t.id, t.contrast_id])).toEqual(cli.targets.map((t) => [t.position, t.id, t.contrast_id]));
  const tokTol = 1e-3 * maxAbsOf(cli.token!.scores.flat());
  app.targets.forEach((t, i) => {
    expect(Math.abs(t.logit - cli.targets[i].logit)).toBeLessThanOrEqual(tokTol);
    app.token!.scores[i].forEach((v, s) => expect(Math.abs(v - cli.token!.scores[i][s]), `token score ${i},${s}`).toBeLessThanOrEqual(tokTol));
    expect(Math.abs(app.token!.rest[i] - cli.token!.rest[i])).toBeLessThanOrEqual(tokTol);
  });
  expect(app.predictions.map((p) => p.top.map((e) => e.id))).toEqual(cli.predictions.map((p) => p.top.map((e) => e.id)));
  expect(app.head?.layers).toEqual(cli.head?.layers);
  const headTol = 1e-3 * maxAbsOf(cli.head!.scores.flat(2));
  app.head!.scores.forEach((layers, i) =>
    layers.forEach((row, n) =>
      row.forEach((v, h) => expect(Math.abs(v - cli.head!.scores[i][n][h]), `head score ${i},${n},${h}`).toBeLessThanOrEqual(headTol)),
    ),
  );
}

test.describe('attribution on stories260K', () => {
  groupNeeds(haveStories, NO_STORIES);

  test('load, run tokens and heads, select, retarget, export JSON equal to the CLI', async ({ page }) => {
    await page.goto('/');
    await loadStories(page);

    const card = page.getByLabel('Loaded model');
    await expect(card).toContainText('llama');
    await expect(card.locator('dt:text-is("layers") + dd')).toHaveText('5');
    await expect(card.locator('dt:text-is("KV heads") + dd')).toHaveText('4');
    await expect(card.locator('dt:text-is("heads") + dd')).toContainText('8');
    await expect(card.locator('dt:text-is("est. GPU mem") + dd')).not.toBeEmpty();
    const backend = await backendShown(page);
    if (!backend.startsWith('WebGPU') || /SwiftShader|fallback/i.test(backend)) await expect(card.locator('.warning')).toBeVisible();

    // Tokens appear as chips with ids while typing (BOS + 4 words).
    await page.locator('#prompt').fill(PROMPT);
    const chips = page.getByTestId('prompt-tokens');
    await expect(chips).toContainText('5 tok');
    await expect(chips.locator('.chip').first()).toContainText('<s>');
    await expect(chips.locator('.chip').nth(1)).toContainText('403');

    await runPrompt(page, PROMPT, ['tokens', 'heads']);

    const toks = page.locator('#heatmap g.tok');
    await expect(toks).toHaveCount(5);
    await expect(page.locator('#heatmap g.tok.selected')).toHaveAttribute('data-position', '4');
    await expect(page.locator('#heads .cell')).toHaveCount(5 * 8);
    await expect(page.getByTestId('completeness')).toHaveClass(/ok/);

    // Click selects; arrows move; Esc returns to the default (last) position.
    await toks.nth(2).click();
    await expect(page.locator('#heatmap g.tok.selected')).toHaveAttribute('data-position', '2');
    await expect(page.getByTestId('summary')).toContainText('At position 2');
    await page.locator('body').press('ArrowRight');
    await expect(page.locator('#heatmap g.tok.selected')).toHaveAttribute('data-position', '3');
    await page.locator('body').press('ArrowLeft');
    await page.locator('body').press('ArrowLeft');
    await expect(page.locator('#heatmap g.tok.selected')).toHaveAttribute('data-position', '1');
    await page.locator('body').press('Escape');
    await expect(page.locator('#heatmap g.tok.selected')).toHaveAttribute('data-position', '4');
    // Sources after the selected position carry no score.
    await toks.nth(1).click();
    await expect(toks.nth(3)).toHaveClass(/after/);

    // The whole run as JSON, exactly as the engine returned it.
    const { name, result } = await exportJson(page, 'Export JSON');
    expect(name).toMatch(/^depass_[a-z0-9-]+_once-upon-a-time\.json$/);
    expect(result.format).toBe('depass-result/1');
    expect(result.prompt).toBe(PROMPT);
    expect(result.tokens.map((t) => t.id)).toEqual([1, 403, 407, 261, 378]);
    expect(result.targets.map((t) => t.position)).toEqual([0, 1, 2, 3, 4]);
    expectComplete(result);
    expect(result.completeness.max_abs_error).toBeLessThan(1e-3);
    expect(result.engine?.backend, 'the exported result names the engine the card shows').toBe(backend.startsWith('WebGPU') ? 'webgpu' : 'cpu');

    const cli = cliResult(['--prompt', PROMPT, '--modes', 'token,head', '--layer-detail']);
    if ('error' in cli) throw new Error(`the CLI failed, so the export could not be compared: ${cli.error}`);
    expectSameAsCli(result, cli.json as DepassResult);

    // Retarget position 3 to its second-ranked prediction: one position re-runs.
    await toks.nth(3).click();
    const second = result.predictions[3].top[1];
    await runAndWait(page, () => page.locator('#prediction .pred-row').nth(1).click());
    await expect(page.locator('#prediction .target-line')).toContainText('chosen');
    await expect(page.getByTestId('completeness')).toHaveClass(/ok/);
    const target = await exportJson(page, 'Export target JSON');
    expect(target.result.targets).toHaveLength(1);
    expect(target.result.targets[0]).toMatchObject({ position: 3, id: second.id, contrast_id: null });
    expect(Math.abs(target.result.targets[0].logit - second.logit)).toBeLessThan(1e-3 * Math.max(1, Math.abs(second.logit)));
    expectComplete(target.result);
    const cli2 = cliResult(['--prompt', PROMPT, '--modes', 'token,head', '--layer-detail', '--positions', '3', '--target', String(second.id)]);
    if ('error' in cli2) throw new Error(`the CLI failed: ${cli2.error}`);
    expectSameAsCli(target.result, cli2.json as DepassResult);

    // A contrast: the target against the model's own top prediction, by vocabulary search.
    const first = result.predictions[3].top[0];
    const contrast = page.getByRole('searchbox', { name: 'Contrast (distractor)' });
    await contrast.fill(`#${first.id}`);
    await runAndWait(page, () => contrast.press('Enter'));
    await expect(page.locator('#prediction .target-line')).toContainText('vs');
    const diff = await exportJson(page, 'Export target JSON');
    expect(diff.result.targets[0]).toMatchObject({ position: 3, id: second.id, contrast_id: first.id });
    expect(Math.abs(diff.result.targets[0].logit - (second.logit - first.logit))).toBeLessThan(1e-3 * Math.max(1, Math.abs(first.logit)));
    expectComplete(diff.result);

    // Back to the prediction; other positions were never affected.
    await page.getByRole('button', { name: 'reset to prediction' }).click();
    await expect(page.locator('#prediction .target-line')).toContainText('prediction');
  });

  test('Ctrl+Enter runs; progress and partial results while the worker computes; Cancel keeps the last result', async ({ page }) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.goto('/');
    await loadStories(page);
    await runPrompt(page, 'One day', ['tokens']);
    await expect(page.locator('#heatmap g.tok')).toHaveCount(3);

    // Ctrl+Enter from the prompt box runs the new prompt (heads too: long enough to watch).
    await page.getByRole('checkbox', { name: 'heads', exact: true }).check();
    const long = 'Lily saw a big red ball in the park and she was very happy';
    await page.locator('#prompt').fill(long);
    // The chips follow the text (debounced): wait for the new tokenisation, then count it.
    await expect(page.getByTestId('prompt-tokens')).not.toHaveClass(/stale/);
    await expect(page.getByTestId('prompt-tokens').locator('.chip').nth(10)).toBeVisible();
    const N = await page.getByTestId('prompt-tokens').locator('.chip').count();
    await expect(page.getByTestId('prompt-tokens')).toContainText(`${N} tok`);
    await page.locator('#prompt').press('Control+Enter');
    const row = page.getByTestId('run-row');
    await expect(row).toHaveAttribute('data-running', 'yes');
    // While the worker computes: a progress bar with the stage, and the main thread answers.
    const bar = page.getByRole('progressbar', { name: 'Run progress' });
    await expect(bar).toBeVisible();
    await expect(bar).toHaveAttribute('aria-valuetext', /forward|token|head|starting/);
    const t0 = Date.now();
    for (let k = 0; k < 5; k++) await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
    expect(Date.now() - t0, 'five animation frames during a run').toBeLessThan(2000);
    // Token mode finishes first: its heatmap shows before the heads are done.
    await expect(page.locator('#heatmap g.tok')).toHaveCount(N);
    expect(await row.getAttribute('data-running'), 'the token heatmap arrived while heads were still running').toBe('yes');
    await page.locator('aside.side').screenshot({ path: join(ARTIFACTS, 'side-running.png') });
    await expect(row).toHaveAttribute('data-running', 'no');
    await expect(page.locator('#heads .cell').first()).toBeVisible();
    await expect(page.locator('#heatmap g.tok')).toHaveCount(N);

    // Start another run and cancel it: the previous result stays on screen.
    await page.locator('#prompt').fill('Tom and Sue went to the shop to buy some milk and bread for their mom');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect(row).toHaveAttribute('data-running', 'no');
    await expect(page.locator('#heatmap g.tok').first()).toBeVisible();
    await expect(page.getByRole('alert')).toHaveCount(0);
  });
});
