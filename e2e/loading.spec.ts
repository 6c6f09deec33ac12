// Loading what users really drop: a broken checkpoint must show the engine's one-line reason
// beside the file it names, leave the app usable, keep the previous model and results, and a
// good model must load and run afterwards. Also the llama2.c pair and the folder picker.

import type { Page } from '@playwright/test';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ARTIFACTS, NO_STORIES, STORIES, expect, groupNeeds, haveStories, loadFiles, loadStories, runPrompt, test } from './fixtures';

/** The top next token at the shown position, from the prediction panel's accessible names. */
async function topPrediction(page: Page): Promise<{ token: string; logit: number }> {
  const label = (await page.locator('#prediction .pred-row').first().getAttribute('aria-label')) ?? '';
  const m = /^\d+\. (.*) \S+: explain this token \(logit (\S+)\)$/.exec(label);
  if (!m) throw new Error(`unexpected label ${label}`);
  return { token: m[1], logit: Number(m[2].replace('−', '-')) };
}

test.describe('loading', () => {
  groupNeeds(haveStories, NO_STORIES);

  let broken: string;
  test.beforeAll(() => {
    // A copy of the model folder whose weights end half-way through.
    broken = mkdtempSync(join(tmpdir(), 'depass-broken-'));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(STORIES, f), join(broken, f));
    const weights = readFileSync(join(STORIES, 'model.safetensors'));
    writeFileSync(join(broken, 'model.safetensors'), weights.subarray(0, Math.floor(weights.length / 2)));
  });
  test.afterAll(() => rmSync(broken, { recursive: true, force: true }));

  const brokenFiles = () => ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => join(broken, f));

  test('a truncated model.safetensors is reported beside the file; a good model loads and runs after it', async ({ page }) => {
    await page.goto('/');
    await loadFiles(page, brokenFiles());
    const status = page.locator('.load-status.failed');
    await expect(status).toBeVisible();
    const bad = status.locator('li.bad');
    await expect(bad).toHaveCount(1);
    await expect(bad.locator('.path')).toHaveText('model.safetensors');
    await expect(bad.locator('.file-error')).toContainText('model.safetensors');
    await expect(page.getByLabel('Loaded model')).toHaveCount(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('aside.side').screenshot({ path: join(ARTIFACTS, 'load-error.png') });

    // The app is still usable: the good model loads and runs.
    await loadStories(page);
    await expect(page.locator('.load-status')).toHaveCount(0);
    await runPrompt(page, 'Once upon a time', ['tokens']);
    await expect(page.locator('#heatmap g.tok')).toHaveCount(5);
  });

  test('a broken load after a good one keeps the model and its results', async ({ page }) => {
    await page.goto('/');
    await loadStories(page);
    await runPrompt(page, 'Once upon a time', ['tokens']);
    await loadFiles(page, brokenFiles());
    await expect(page.locator('.load-status.failed')).toContainText('the previous model is still loaded');
    await expect(page.locator('.load-status li.bad .file-error')).toContainText('model.safetensors');
    await expect(page.getByLabel('Loaded model')).toBeVisible();
    await expect(page.locator('#heatmap g.tok')).toHaveCount(5);
    // And it still runs.
    await runPrompt(page, 'One day', ['tokens']);
    await expect(page.locator('#heatmap g.tok')).toHaveCount(3);
    await page.getByRole('button', { name: 'Dismiss the load error' }).click();
    await expect(page.locator('.load-status')).toHaveCount(0);
  });

  test('a llama2.c .bin with its tokenizer loads and gives the same prediction as the Hugging Face folder', async ({ page }) => {
    await page.goto('/');
    await loadStories(page);
    await runPrompt(page, 'Once upon a time', ['tokens']);
    const hf = await topPrediction(page);
    await loadFiles(page, [resolve(STORIES, 'llama2c/stories260K.bin'), resolve(STORIES, 'llama2c/tok512.bin')]);
    await expect(page.getByLabel('Loaded model').locator('dt:text-is("format") + dd')).toHaveText('llama2c');
    await runPrompt(page, 'Once upon a time', ['tokens']);
    const bin = await topPrediction(page);
    expect(bin.token).toBe(hf.token);
    expect(Math.abs(bin.logit - hf.logit)).toBeLessThan(1e-3 * Math.max(1, Math.abs(hf.logit)));
  });

  test('the folder picker takes a whole model folder and names the model after it', async ({ page }) => {
    await page.goto('/');
    await page.getByTestId('folder-input').setInputFiles(STORIES);
    await expect(page.locator('.load-status.loading')).toHaveCount(0);
    await expect(page.getByLabel('Loaded model')).toContainText('stories260K');
    await expect(page.getByLabel('Loaded model').locator('dt:text-is("format") + dd')).toHaveText('safetensors');
  });

  test('files dropped on the drop zone load like picked ones', async ({ page }) => {
    await page.goto('/');
    const files = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((name) => ({
      name,
      b64: readFileSync(join(STORIES, name)).toString('base64'),
    }));
    await page.evaluate((list) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
      const zone = document.querySelector('.dropzone')!;
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, files);
    await expect(page.getByLabel('Loaded model').locator('dt:text-is("layers") + dd')).toHaveText('5');
    await runPrompt(page, 'Once upon a time', ['tokens']);
    await expect(page.locator('#heatmap g.tok')).toHaveCount(5);
  });
});
