// The pictures of the README's "Outputs" section, made from the demo model with the CLI and
// headless Chromium: the report opened from disk, a figure exported from it as SVG, the CSV as a
// table, and the example notebook after a run. `node bin/run-ts.mjs scripts/readme-pictures.ts`
// (needs Chromium, and Debian's Jupyter for the notebook picture).

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const images = resolve(root, 'docs/images');
const work = mkdtempSync(join(tmpdir(), 'depass-pictures-'));
const prompt = 'The cat sat on the mat. The dog sat on the rug. The cat saw the';
const depass = (...args: string[]) =>
  execFileSync(
    process.execPath,
    [resolve(root, 'bin/depass.mjs'), '--model', resolve(root, 'public/models/demo-llama'), '--prompt', prompt, '--backend', 'cpu', ...args],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );

depass('--modes', 'token,head', '--layer-detail', '--format', 'html', '--out', join(work, 'report.html'));
depass('--modes', 'token,head', '--format', 'csv', '--out', join(work, 'run.csv'));

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, acceptDownloads: true, offline: true });
const page = await context.newPage();

// The report from disk, and its heatmap exported as SVG (a figure as it goes into a paper).
await page.goto(pathToFileURL(join(work, 'report.html')).href);
await page.locator('#heatmap g.tok').first().waitFor();
await page.screenshot({ path: join(images, 'report.png') });
const [svg] = await Promise.all([
  page.waitForEvent('download'),
  page
    .locator('#heatmap')
    .getByRole('button', { name: /as SVG$/ })
    .click(),
]);
copyFileSync(await svg.path(), join(images, 'token-heatmap.svg'));

// The CSV's first rows as a table.
const lines = readFileSync(join(work, 'run.csv'), 'utf8').trim().split('\n');
const cells = (line: string) => line.split(',').map((c) => `<td>${c.replaceAll('&', '&amp;').replaceAll('<', '&lt;')}</td>`);
const table = [lines[0]!, ...lines.slice(-12)].map((l, k) => `<tr${k === 0 ? ' class="h"' : ''}>${cells(l).join('')}</tr>`).join('');
await page.goto('about:blank'); // leaves the report's own policy behind
await page.setViewportSize({ width: 900, height: 330 });
await page.setContent(
  `<style>body{font:12px 'DejaVu Sans Mono',monospace;margin:8px}table{border-collapse:collapse}td{padding:2px 8px;border-bottom:1px solid #ddd}.h td{font-weight:bold}</style><table>${table}</table>`,
);
await page.screenshot({ path: join(images, 'csv.png') });

// The example notebook after a run, as Jupyter renders it.
if (existsSync('/usr/bin/jupyter')) {
  execFileSync('/usr/bin/jupyter', ['nbconvert', '--to', 'html', '--execute', resolve(root, 'examples/depass.ipynb'), '--output-dir', work], {
    env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}`, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
    stdio: 'ignore',
  });
  await page.setViewportSize({ width: 1000, height: 900 });
  await page.goto(pathToFileURL(join(work, 'depass.html')).href);
  await page.getByText(/^completeness holds at/).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(images, 'notebook.png') });
} else console.warn('no Jupyter: docs/images/notebook.png left as it is');

await browser.close();
writeFileSync(join(work, 'done'), '');
console.log(`pictures written to ${images}`);
