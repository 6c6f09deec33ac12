// The bundled demo models: "Load … demo" fetches the files from the app's own origin, fills in
// an example prompt and runs; when a demo is not bundled the button says so and nothing breaks.
// One run is checked to have been computed on WebGPU, by the card and by the exported result.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DepassResult } from '../src/depass/result';
import { ARTIFACTS, ROOT, backendShown, expect, needs, runAndWait, test } from './fixtures';

const DEMOS = [
  { key: 'demo-llama', button: 'Load Llama demo', family: 'llama' },
  { key: 'demo-gpt2', button: 'Load GPT-2 demo', family: 'gpt2' },
];

const PROBES = resolve(ROOT, 'public/models/probes.json');
const probes = existsSync(PROBES) ? (JSON.parse(readFileSync(PROBES, 'utf8')) as { probes: { prompt: string; answer: string }[] }).probes : [];

for (const d of DEMOS) {
  test(`${d.button}: loads from the origin, pre-fills an example prompt, runs complete`, async ({ page, requests }) => {
    needs(existsSync(resolve(ROOT, 'public/models', d.key, 'config.json')), `public/models/${d.key} is not in this checkout`);
    await page.goto('/');
    const button = page.getByRole('button', { name: d.button });
    await expect(button).toBeEnabled();
    await button.click();
    const card = page.getByLabel('Loaded model');
    await expect(card).toContainText(d.key);
    await expect(card.locator('dt:text-is("family") + dd')).toHaveText(d.family);
    await expect(page.locator('#prompt')).not.toHaveValue('');
    expect(requests.all.some((u) => u.includes(`/models/${d.key}/model.safetensors`))).toBe(true);
    await expect(page.getByTestId('prompt-tokens')).toContainText('tok');
    await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
    await expect(page.getByTestId('completeness')).toHaveClass(/ok/);
    await expect(page.locator('#heads .cell').first()).toBeVisible();
    // The pre-filled prompt is a held-out probe, and the trained model answers it: the top
    // prediction at the last position is the probe's answer word.
    const prompt = await page.locator('#prompt').inputValue();
    const probe = probes.find((p) => p.prompt === prompt);
    expect(probe, `the pre-filled prompt is in probes.json: ${prompt}`).toBeDefined();
    const label = (await page.locator('#prediction svg[aria-label^="Top five"]').getAttribute('aria-label')) ?? '';
    // "Top five next tokens at position N: <token> <logit>, ..."
    const best = /: (.+?) -?[\d.]+(?:,|$)/.exec(label)?.[1] ?? '';
    // Token texts show a leading space as '·' (and SentencePiece's ▁ or GPT-2's Ġ may remain).
    expect(best.trim().replace(/^[\u2581\u0120·]/, ''), label).toBe(probe!.answer.trim());
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(ARTIFACTS, `${d.key}.png`) });
  });
}

test('the Llama demo runs on WebGPU, and its exported result says webgpu', async ({ page }) => {
  needs(existsSync(resolve(ROOT, 'public/models/demo-llama/config.json')), 'public/models/demo-llama is not in this checkout');
  await page.goto('/');
  await page.getByRole('button', { name: 'Load Llama demo' }).click();
  await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
  const backend = await backendShown(page);
  needs(backend.startsWith('WebGPU'), `WebGPU in the browser: the page fell back to the ${backend || 'unknown backend'}`);
  expect(backend).toMatch(/^WebGPU · \S/); // names its adapter
  await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON', exact: true }).click()]);
  const result = JSON.parse(readFileSync(await download.path(), 'utf8')) as DepassResult;
  expect(result.engine?.backend, 'engine.backend of the exported result').toBe('webgpu');
});

test('without bundled demos the buttons are disabled and say so', async ({ page }) => {
  // Answer as a build without demo files would (same origin, nothing leaves the page).
  await page.route('**/models/demo-*/**', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto('/');
  for (const d of DEMOS) await expect(page.getByRole('button', { name: d.button })).toBeDisabled();
  await expect(page.getByText('No demo model is bundled with this build.')).toBeVisible();
  // The rest of the app is unaffected.
  await expect(page.getByText('Choose files…')).toBeVisible();
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'start.png') });
});
