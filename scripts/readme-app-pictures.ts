// The pictures of the README's "Using the app" section that need the app itself: built, served
// by `vite preview` on this machine, and driven in headless Chromium with the Llama demo model.
// Now: a comparison of a minimal pair (docs/images/comparison.png).
// `node bin/run-ts.mjs scripts/readme-app-pictures.ts` (needs Chromium; PORT to change 4791).

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const images = resolve(root, 'docs/images');
const dist = mkdtempSync(join(tmpdir(), 'depass-app-pictures-'));
const port = Number(process.env['PORT'] ?? 4791);
const vite = resolve(root, 'node_modules/vite/bin/vite.js');

// A binding probe of the demo corpus and its minimal pair: the asked name decides the colour.
const FIRST = "Sam got a blue bike. Mia got a white bike. Una had a pink bike. Tom has a gray bike. Mia's bike is";
const SECOND = "Sam got a blue bike. Mia got a white bike. Una had a pink bike. Tom has a gray bike. Sam's bike is";

execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn', '--outDir', dist, '--emptyOutDir'], { cwd: root, stdio: 'inherit' });
const server = spawn(process.execPath, [vite, 'preview', '--outDir', dist, '--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
  cwd: root,
  stdio: 'ignore',
});
const base = `http://127.0.0.1:${port}/`;
for (let tries = 0; ; tries++) {
  try {
    if ((await fetch(base)).ok) break;
  } catch {
    if (tries > 100) throw new Error(`vite preview did not answer at ${base}`);
  }
  await new Promise((r) => setTimeout(r, 200));
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
  await page.goto(base);
  await page.getByRole('button', { name: 'Load Llama demo' }).click();
  await page.getByLabel('Loaded model').waitFor();
  await page.locator('#prompt').fill(FIRST);
  const runs = page.getByTestId('run-row');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="run-row"]')?.getAttribute('data-runs') === '1');
  await runs.and(page.locator('[data-running="no"]')).waitFor();
  await page.locator('#compare-prompt').fill(SECOND);
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await page.locator('[data-testid="compare-row"][data-has-second="yes"][data-comparing="no"]').waitFor({ timeout: 120_000 });
  await page.locator('#compare-layers svg').waitFor();
  await page.mouse.move(0, 0);
  const top = (await page.getByTestId('compare-bar').boundingBox())!;
  const bottom = (await page.locator('#compare-flow').boundingBox())!;
  await page.screenshot({
    path: join(images, 'comparison.png'),
    clip: { x: top.x - 4, y: top.y - 4, width: top.width + 8, height: bottom.y + bottom.height - top.y + 8 },
  });
  console.log(`pictures written to ${images}`);
} finally {
  await browser.close();
  server.kill();
}
