// The README's pictures of the app itself (Using the app): the app built into a temporary folder
// and served by `vite preview`, driven in headless Chromium on the demo model: a prompt continued
// by Generate, one generated token explained; a comparison of a minimal pair.
// `node bin/run-ts.mjs scripts/app-pictures.ts`
// (needs Chromium; DEPASS_PICTURES_PORT picks the port, 4599 by default).

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const images = resolve(root, 'docs/images');
const port = Number(process.env['DEPASS_PICTURES_PORT'] ?? 4599);
const dist = mkdtempSync(join(tmpdir(), 'depass-app-'));
const vite = resolve(root, 'node_modules/vite/bin/vite.js');

execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn', '--outDir', dist, '--emptyOutDir'], { cwd: root, stdio: 'inherit' });
const server = spawn(process.execPath, [vite, 'preview', '--outDir', dist, '--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
  cwd: root,
  stdio: 'ignore',
});
const base = `http://127.0.0.1:${port}/`;
try {
  for (let k = 0; ; k++) {
    if (
      await fetch(base)
        .then((r) => r.ok)
        .catch(() => false)
    )
      break;
    if (k > 100) throw new Error(`the preview server did not answer at ${base}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--enable-unsafe-webgpu', '--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  await page.goto(base);
  await page.getByRole('button', { name: 'Load Llama demo' }).click();
  await page.getByLabel('Loaded model').getByText('demo-llama').waitFor();
  await page.locator('#prompt').fill('Tom and Mia went to the park. Mia');
  await page.getByLabel('Tokens to generate').fill('6');
  const row = page.getByTestId('run-row');
  const before = Number(await row.getAttribute('data-runs'));
  await page.getByRole('button', { name: 'Generate 6 tokens' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="run-row"]')?.getAttribute('data-runs')) > n, before, { timeout: 120_000 });
  const strip = page.getByTestId('generated');
  await strip.getByRole('button').nth(1).click();
  // The sidebar scrolls on its own: bring the Generate controls into the picture.
  await page.getByLabel('Tokens to generate').scrollIntoViewIfNeeded();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: join(images, 'generate.png'), clip: { x: 0, y: 0, width: 1280, height: 620 } });
  console.log(`picture written to ${join(images, 'generate.png')}`);

  // A comparison: a binding probe of the demo corpus and its minimal pair (the asked name decides the colour).
  const FIRST = "Sam got a blue bike. Mia got a white bike. Una had a pink bike. Tom has a gray bike. Mia's bike is";
  const SECOND = "Sam got a blue bike. Mia got a white bike. Una had a pink bike. Tom has a gray bike. Sam's bike is";
  const cmp = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
  await cmp.goto(base);
  await cmp.getByRole('button', { name: 'Load Llama demo' }).click();
  await cmp.getByLabel('Loaded model').getByText('demo-llama').waitFor();
  await cmp.locator('#prompt').fill(FIRST);
  await cmp.getByRole('button', { name: 'Run', exact: true }).click();
  await cmp.locator('[data-testid="run-row"][data-runs="1"][data-running="no"]').waitFor({ timeout: 120_000 });
  await cmp.locator('#compare-prompt').fill(SECOND);
  await cmp.getByRole('button', { name: 'Compare', exact: true }).click();
  await cmp.locator('[data-testid="compare-row"][data-has-second="yes"][data-comparing="no"]').waitFor({ timeout: 120_000 });
  await cmp.locator('#compare-layers svg').waitFor();
  await cmp.mouse.move(0, 0);
  const top = (await cmp.getByTestId('compare-bar').boundingBox())!;
  const bottom = (await cmp.locator('#compare-flow').boundingBox())!;
  await cmp.screenshot({
    path: join(images, 'comparison.png'),
    clip: { x: top.x - 4, y: top.y - 4, width: top.width + 8, height: bottom.y + bottom.height - top.y + 8 },
  });
  await browser.close();
  console.log(`picture written to ${join(images, 'comparison.png')}`);
} finally {
  server.kill();
}
