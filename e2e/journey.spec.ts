// What a first-time user tripped over, checked on the bundled Llama demo: the Run button's hover
// contrast, results marked out of date, a cancelled run said so, a typed prompt kept, the prompt's
// length checked before Run, the flow graph's caption and token positions, export captions,
// chosen targets kept per position and exported, the shared view's controls and digits, and the
// smaller wording fixes. Needs public/models/demo-llama.

import type { Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DepassResult } from '../src/depass/result';
import { ROOT, expect, loadFiles, needs, runAndWait, runPrompt, test } from './fixtures';
import { writeHostileModel } from './hostile-model';

const DEMO = resolve(ROOT, 'public/models/demo-llama');
/** 20 tokens with BOS on the demo's tokenizer, with repeated words. */
const PROMPT = 'The cat sat on the mat. The dog sat on the rug. The cat saw the';

test.beforeEach(() => needs(existsSync(resolve(DEMO, 'config.json')), 'public/models/demo-llama is not in this checkout'));

async function loadDemo(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Load Llama demo' }).click();
  await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
}

async function download(page: Page, click: () => Promise<unknown>): Promise<Buffer> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()]);
  return readFileSync(await d.path());
}

/** WCAG contrast of two computed CSS colours (rgb() or rgba() strings, alpha ignored). */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
    const lin = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(bl);
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

test('Run stays readable on hover; out-of-date results, a cancelled run and the prompt length are said; a typed prompt is kept', async ({ page }) => {
  const failed: string[] = [];
  page.on('requestfailed', (r) => failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Load Llama demo' })).toBeEnabled();
  // Typed before loading the demo: kept, not replaced by an example prompt.
  await page.locator('#prompt').fill('My own words here');
  await loadDemo(page);
  await expect(page.locator('#prompt')).toHaveValue('My own words here');
  await expect(page.getByLabel('Example prompts')).toBeVisible();
  // The empty views say the next step for this state, not "load a model".
  await expect(page.locator('#heatmap .empty')).toContainText('Press Run');
  await expect(page.locator('#heatmap .empty')).not.toContainText('Load a model');

  // Hover contrast of the primary button, from computed styles.
  const run = page.getByRole('button', { name: 'Run', exact: true });
  await run.hover();
  const colours = await run.evaluate((el) => ({ fg: getComputedStyle(el).color, bg: getComputedStyle(el).backgroundColor }));
  expect(contrast(colours.fg, colours.bg), `Run on hover: ${colours.fg} on ${colours.bg}`).toBeGreaterThanOrEqual(4.5);

  // Too long for the model (it reads 64 tokens): said while typing, beside Run, which is disabled.
  await page.locator('#prompt').fill('The cat sat on the mat. '.repeat(12));
  await expect(page.getByTestId('prompt-tokens')).toContainText('(at most 64)');
  await expect(page.getByTestId('run-blocked')).toContainText('reads at most 64');
  await expect(run).toBeDisabled();
  await expect(run).toHaveAttribute('title', /reads at most 64/);

  // A run, then changes: the views say they are out of date, and what changed.
  await runPrompt(page, 'The cat sat on the mat.', ['tokens']);
  await expect(page.getByTestId('stale-note')).toHaveCount(0);
  await page.locator('#prompt').fill('The dog sat on the mat.');
  await expect(page.getByTestId('stale-note')).toContainText('the prompt changed since this run');
  await page.getByRole('checkbox', { name: 'heads', exact: true }).check();
  await expect(page.getByTestId('stale-note')).toContainText('the prompt and the modes changed');
  await page.locator('#prompt').fill('The cat sat on the mat.');
  await page.getByRole('checkbox', { name: 'heads', exact: true }).uncheck();
  await expect(page.getByTestId('stale-note')).toHaveCount(0);

  // Cancel: the status line says so, and that the results are the run before's.
  await page.getByRole('checkbox', { name: 'heads', exact: true }).check();
  await page.getByRole('checkbox', { name: 'neurons', exact: true }).check();
  await page.locator('#prompt').fill(PROMPT);
  await expect(page.getByTestId('prompt-tokens')).not.toHaveClass(/stale/);
  await run.click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('run-row')).toHaveAttribute('data-running', 'no');
  await expect(page.getByTestId('run-status')).toContainText('cancelled');

  // A single file is named, not "1 files"; the demo stays loaded.
  await loadFiles(page, [resolve(DEMO, 'config.json')]);
  await expect(page.locator('.load-status.failed')).toContainText('Could not load config.json');
  await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
  // Example prompts belong to the demos: another model gets none.
  await loadFiles(page, await writeHostileModel());
  await expect(page.getByLabel('Loaded model')).toContainText('hostile');
  await expect(page.getByLabel('Example prompts')).toHaveCount(0);
  expect(failed, 'aborted or failed requests').toEqual([]);
});

test('flow graph caption and positions, export captions, chosen targets per position in the JSON, and the smaller fixes', async ({ page }) => {
  test.setTimeout(360_000);
  await page.goto('/');
  await loadDemo(page);
  await page.getByRole('checkbox', { name: 'neurons', exact: true }).check();
  await runPrompt(page, PROMPT, ['tokens', 'heads', 'neurons']);
  const T = await page.locator('#heatmap g.tok').count();
  expect(T).toBeGreaterThan(14);

  // Flow graph: how many of the sources it shows, and positions that tell repeated tokens apart.
  await expect(page.getByTestId('flow-sources')).toHaveText(`the 14 strongest of the ${T} source tokens up to position ${T - 1} shown`);
  const labels = await page.locator('#flow text.node-label[data-position]').allTextContents();
  expect(labels).toHaveLength(14);
  const positions = labels.map((l) => Number(/^(\d+):/.exec(l)?.[1]));
  expect(new Set(positions).size).toBe(14);
  // Repeated tokens ("·the", "·sat") appear more than once, each told apart by its position.
  const texts = labels.map((l) => /^\d+:(\u2068.*\u2069)/.exec(l)?.[1]);
  expect(new Set(texts).size).toBeLessThan(texts.length);

  // Chosen targets at two positions: both kept, both marked, both in Export JSON.
  const live = JSON.parse(
    (await download(page, () => page.getByRole('button', { name: 'Export JSON', exact: true }).click())).toString('utf8'),
  ) as DepassResult;
  const p1 = T - 1;
  const p2 = 5;
  await runAndWait(page, () => page.locator('#prediction .pred-row').nth(1).click());
  await page.locator('#heatmap g.tok').nth(p2).click();
  await runAndWait(page, () => page.locator('#prediction .pred-row').nth(2).click());
  await expect(page.locator('#heatmap g.tok.chosen')).toHaveCount(2);
  await expect(page.getByTestId('chosen-positions')).toContainText(`positions ${p2}, ${p1}`);
  await page.locator('#heatmap g.tok').nth(p1).click();
  await expect(page.locator('#prediction .target-line')).toContainText('chosen');
  const merged = JSON.parse(
    (await download(page, () => page.getByRole('button', { name: 'Export JSON', exact: true }).click())).toString('utf8'),
  ) as DepassResult;
  expect(merged.targets.slice(T).map((t) => [t.position, t.id])).toEqual([
    [p2, live.predictions[p2].top[2].id],
    [p1, live.predictions[p1].top[1].id],
  ]);
  expect(merged.token!.scores).toHaveLength(T + 2);
  expect(merged.head!.scores).toHaveLength(T + 2);
  merged.targets.forEach((t, i) => {
    const sum = merged.token!.scores[i].reduce((a, b) => a + b, 0) + merged.token!.rest[i];
    expect(Math.abs(sum - t.logit), `completeness of target ${i}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(t.logit)));
  });

  // Export captions: model, fingerprint, prompt, position, target and rule, in the SVG and the PNG.
  const svg = (await download(page, () => page.getByRole('button', { name: 'Export Token attribution as SVG' }).click())).toString('utf8');
  const caption = await page.evaluate((t) => {
    const doc = new DOMParser().parseFromString(t, 'image/svg+xml');
    if (doc.querySelector('parsererror')) return null;
    return Array.from(doc.querySelectorAll('.export-caption text')).map((x) => x.textContent);
  }, svg);
  expect(caption).not.toBeNull();
  const text = caption!.join('\n');
  expect(text).toContain('model demo-llama');
  expect(text).toContain(`(${merged.model.fingerprint.slice(7, 15)})`);
  expect(text).toContain('prompt: “The cat sat on the mat.');
  expect(text).toContain(`position ${p1}`);
  expect(text).toMatch(/target “.+” \(chosen\), logit -?[\d.]+/);
  expect(text).toContain('MLP rule: softmax, τ 0.1');
  const png = await download(page, () => page.getByRole('button', { name: 'Export Token attribution as PNG' }).click());
  const svgHeight = Number(/<svg[^>]* height="(\d+)"/.exec(svg)![1]);
  const chartHeight = Math.ceil(
    await page
      .locator('#heatmap svg')
      .first()
      .evaluate((e) => Number(e.getAttribute('height'))),
  );
  expect(svgHeight).toBeGreaterThan(chartHeight + 4 * 14);
  expect(png.readUInt32BE(20), 'PNG height (2x) includes the caption').toBe(2 * svgHeight);
  // The ablation picture says what was removed.
  await page.getByRole('button', { name: /^Ablate top/ }).click();
  await expect(page.getByTestId('ablation-real')).not.toHaveText('…');
  const ablation = (await download(page, () => page.getByRole('button', { name: 'Export Check by ablation as SVG' }).click())).toString('utf8');
  expect(ablation).toMatch(/removed the top 3 heads: L\dH\d, L\dH\d, L\dH\d/);

  // The tooltip of the token just clicked speaks of the selection, not of a later position.
  const chip = page.locator('#heatmap g.tok').nth(8);
  await chip.hover();
  await chip.click();
  await chip.hover({ position: { x: 6, y: 10 } });
  await expect(page.locator('#heatmap .tip')).toContainText('the selected position');
  await expect(page.locator('#heatmap .tip')).not.toContainText('after the selected position');
  // A contrast's shares say what they are shares of.
  const contrastBox = page.getByRole('searchbox', { name: 'Contrast (distractor)' });
  await contrastBox.fill(`#${live.predictions[8].top[1].id}`);
  await runAndWait(page, () => contrastBox.press('Enter'));
  await expect(page.getByTestId('summary')).toContainText('of the difference');

  // Smaller things: legend text readable, the model card's format whole, lens tokens whole,
  // the link size explained, the neuron view in plain words.
  const legendInk = await page
    .locator('#layers text.legend-label')
    .first()
    .evaluate((e) => getComputedStyle(e).fill);
  expect(contrast(legendInk, 'rgb(255, 255, 255)')).toBeGreaterThanOrEqual(4.5);
  const format = page.getByLabel('Loaded model').locator('dt:text-is("format") + dd');
  await expect(format).toHaveText('safetensors');
  expect(await format.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
  const lens = await page.locator('#lens text.mono').allTextContents();
  expect(lens.length).toBeGreaterThan(0);
  expect(
    lens.filter((t) => t.endsWith('…')),
    'logit lens tokens cut short',
  ).toEqual([]);
  await expect(page.getByTestId('link-size')).toHaveText(/^link \d+\.\d kB$/);
  await expect(page.getByTestId('link-size')).toHaveAttribute('title', /holds the whole run/);
  const neurons = await page.locator('#neurons').textContent();
  expect(neurons).not.toContain('W_U');
  expect(neurons).not.toMatch(/groups of/);
  expect(neurons).toContain('tokens each neuron’s output raises');
});

test('the shared view: controls that need the model are disabled with the reason, missing patterns are information, scores show the digits the link holds', async ({
  page,
}) => {
  await page.goto('/');
  await loadDemo(page);
  await runPrompt(page, PROMPT, ['tokens', 'heads']);
  const live = JSON.parse(
    (await download(page, () => page.getByRole('button', { name: 'Export JSON', exact: true }).click())).toString('utf8'),
  ) as DepassResult;
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const url = await page.getByTestId('share-url').inputValue();
  await page.keyboard.press('Escape');
  await page.goto('about:blank');
  await page.goto(url);
  await expect(page.getByTestId('shared-banner')).toContainText('shown with the digits the link holds');

  const ablate = page.getByRole('button', { name: /^Ablate top/ });
  await expect(ablate).toBeDisabled();
  await expect(page.getByTestId('ablate-why')).toContainText('re-run the link live');
  await page.locator('#heads .cell').first().click();
  const note = page.getByTestId('pattern-note');
  await expect(note).toContainText('not part of a shared link');
  await expect(note).toHaveClass('muted-text');
  await expect(page.locator('#heads')).not.toContainText('could not fetch');

  // Each chip shows the digits its row holds, and they agree with the live run to the last one.
  const last = live.targets.length - 1;
  const row = live.token!.scores[last];
  const chips = await page.locator('#heatmap g.tok').evaluateAll((els) => els.map((e) => e.querySelector('.tok-score')?.textContent ?? null));
  let compared = 0;
  chips.forEach((shown, s) => {
    if (shown === null) return;
    const decimals = shown.includes('.') ? shown.split('.')[1].length : 0;
    const value = Number(shown.replace('−', '-'));
    expect(Math.abs(value - row[s]), `chip ${s}: ${shown} vs the live ${row[s]}`).toBeLessThanOrEqual(10 ** -decimals + 1e-9);
    compared++;
  });
  expect(compared).toBe(row.length);
  // Fewer digits than a live run would print for the small scores: the link does not hold them.
  const max = Math.max(...row.map(Math.abs));
  const expected = Math.max(0, Math.floor(-Math.log10(max / 127)));
  expect(chips.every((c) => c === null || (c.split('.')[1]?.length ?? 0) === expected)).toBe(true);
});
