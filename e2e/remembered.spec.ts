// Models remembered on this computer, in Chromium's real origin private file system: opting in
// keeps stories260K's files (off by default, persistent storage asked for), the model survives
// a reload and loads without dropping it, a link to a run on it re-runs with one click, Remove
// forgets it; a full disk and a browser without OPFS end in a clear message with the loaded
// model untouched. Requests stay on the origin (fixtures).

import type { Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import type { DepassResult } from '../src/depass/result';
import { NO_STORIES, expect, groupNeeds, haveStories, loadStories, runPrompt, test } from './fixtures';

const PROMPT = 'Lily saw a big red ball in the park';

async function exportJson(page: Page, button: string): Promise<DepassResult> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button, exact: true }).click()]);
  return JSON.parse(readFileSync(await download.path(), 'utf8')) as DepassResult;
}

const maxAbs = (xs: number[]) => xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

test.describe('remembered models', () => {
  groupNeeds(haveStories, NO_STORIES);

  test('a remembered model survives a reload, loads without dropping it, and re-runs a link in one click', async ({ page }) => {
    test.setTimeout(420_000);
    await page.goto('/');
    await loadStories(page);
    const remember = page.getByRole('checkbox', { name: 'Remember this model on this computer' });
    await expect(remember).toBeEnabled();
    await expect(remember).not.toBeChecked();
    expect(await page.evaluate(() => navigator.storage.persisted())).toBe(false);
    await remember.check();
    const list = page.getByRole('list', { name: 'Remembered models' });
    await expect(list.getByRole('listitem')).toHaveCount(1);
    await expect(remember).toBeChecked();
    const fingerprint = await page.getByLabel('Loaded model').locator('.model-name').getAttribute('data-fingerprint');
    await expect(list.getByRole('listitem')).toHaveAttribute('data-fingerprint', fingerprint!);
    // config + safetensors + tokenizer files: about a megabyte.
    await expect(list).toContainText(/1(\.0)? MB|10\d\d KB/);
    await expect(page.getByTestId('storage-usage')).toContainText('in 1 model · this site stores');
    // What is on disk: the manifest and the files under the fingerprint.
    const onDisk = await page.evaluate(async (fp) => {
      const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('depass-models');
      const dir = await root.getDirectoryHandle(fp.replace(/[^A-Za-z0-9_-]/g, '-'));
      const manifest = JSON.parse(await (await (await dir.getFileHandle('manifest.json')).getFile()).text());
      const files = await dir.getDirectoryHandle('files');
      const weights = await (await files.getFileHandle('model.safetensors')).getFile();
      return { manifest, weights: weights.size };
    }, fingerprint!);
    expect(onDisk.manifest).toMatchObject({ format: 'depass-remembered/1', fingerprint });
    expect(onDisk.manifest.files.map((f: { path: string }) => f.path).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(onDisk.weights).toBe(onDisk.manifest.files.find((f: { path: string }) => f.path === 'model.safetensors').size);

    await runPrompt(page, PROMPT, ['tokens', 'heads']);
    const original = await exportJson(page, 'Export JSON');
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    const url = await page.getByTestId('share-url').inputValue();

    // A reload with nothing loaded: the model is still listed and loads from this computer.
    await page.goto('/');
    await expect(page.getByLabel('Loaded model')).toHaveCount(0);
    await expect(list.getByRole('listitem')).toHaveCount(1);
    await page.getByRole('button', { name: /^Load .* from this computer$/ }).click();
    await expect(page.getByLabel('Loaded model').locator('.model-name')).toHaveAttribute('data-fingerprint', fingerprint!);
    await expect(remember).toBeChecked();

    // The link, in a page that starts empty: one click loads the remembered model and re-runs.
    await page.goto('/');
    await page.goto(url);
    const banner = page.getByTestId('shared-banner');
    await expect(banner).toContainText('read-only');
    await expect(page.locator('#heatmap g.tok')).toHaveCount(original.tokens.length);
    const row = page.getByTestId('run-row');
    const before = Number(await row.getAttribute('data-runs'));
    await banner.getByRole('button', { name: /from this computer and re-run/ }).click();
    await expect(row).toHaveAttribute('data-runs', String(before + 1), { timeout: 180_000 });
    await expect(row).toHaveAttribute('data-running', 'no');
    await expect(banner).toHaveCount(0);
    await expect(page.getByLabel('Loaded model').locator('.model-name')).toHaveAttribute('data-fingerprint', fingerprint!);
    const live = await exportJson(page, 'Export JSON');
    const tol = 1e-3 * Math.max(maxAbs(original.token!.scores.flat()), maxAbs(original.head!.scores.flat(2)));
    expect(live.tokens).toEqual(original.tokens);
    original.token!.scores.forEach((r, i) => r.forEach((v, s) => expect(Math.abs(live.token!.scores[i][s] - v)).toBeLessThanOrEqual(tol)));
    original.head!.scores.forEach((r, i) => r.flat().forEach((v, k) => expect(Math.abs(live.head!.scores[i].flat()[k] - v)).toBeLessThanOrEqual(tol)));

    // Remove: gone from the list and from the disk; the loaded model stays.
    await page.getByRole('button', { name: /^Remove .* from this computer$/ }).click();
    await expect(list).toHaveCount(0);
    await expect(remember).not.toBeChecked();
    expect(
      await page.evaluate(async () => {
        const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('depass-models');
        const names: string[] = [];
        for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
        return names;
      }),
    ).toEqual([]);
    await expect(page.getByLabel('Loaded model')).toBeVisible();
  });

  test('a full disk says so and keeps the loaded model', async ({ page }) => {
    // This page's storage reports almost no room left.
    await page.addInitScript(() => {
      StorageManager.prototype.estimate = async () => ({ usage: 1000, quota: 4096 });
    });
    await page.goto('/');
    await loadStories(page);
    // The box unticks itself again when the save fails, so it is clicked rather than checked.
    await page.getByRole('checkbox', { name: 'Remember this model on this computer' }).click();
    await expect(page.getByRole('alert')).toContainText(
      /Could not remember .*: not enough storage space: the model needs 1(\.0)? MB and this browser allows this site 3\.0 KB more\. The model stays loaded\./,
    );
    await expect(page.getByRole('checkbox', { name: 'Remember this model on this computer' })).not.toBeChecked();
    await expect(page.getByRole('list', { name: 'Remembered models' })).toHaveCount(0);
    await runPrompt(page, 'One day', ['tokens']);
    await expect(page.locator('#heatmap g.tok')).toHaveCount(3);
  });

  test('without OPFS the checkbox explains why it cannot be used', async ({ page }) => {
    await page.addInitScript(() => {
      delete (StorageManager.prototype as unknown as { getDirectory?: unknown }).getDirectory;
    });
    await page.goto('/');
    await loadStories(page);
    await expect(page.getByRole('checkbox', { name: 'Remember this model on this computer' })).toBeDisabled();
    await expect(page.getByText('This browser offers no private file storage for this site (OPFS), so models cannot be remembered here.')).toBeVisible();
    await runPrompt(page, 'One day', ['tokens']);
    await expect(page.locator('#heatmap g.tok')).toHaveCount(3);
  });
});
