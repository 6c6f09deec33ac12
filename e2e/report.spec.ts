// Export report: a run on the demo model written as one HTML file, then opened the ways a reader
// opens it: from a file:// address with the network off, and inside a notebook cell's frame
// (srcdoc, as IPython.display.HTML with an iframe does). It must show the run as the shared link
// shows it (same chips, same numbers), make no request, break no rule of its own policy, and run
// none of the text it carries.

import type { Page } from '@playwright/test';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ARTIFACTS, ROOT, expect, needs, runPrompt, test } from './fixtures';

const DEMO = resolve(ROOT, 'public/models/demo-llama');
const PROMPT = 'The cat sat on the mat. The dog sat on the rug. The cat saw the';

test.beforeEach(() => needs(existsSync(resolve(DEMO, 'config.json')), 'public/models/demo-llama is not in this checkout'));

/** Every chip of the heatmap as the screen reader hears it (token text and score). */
const chips = (page: Page) => page.locator('#heatmap g.tok').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));

/** Listens for policy violations from the first script on; read them with violations(page). */
async function watchPolicy(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

test('a report opens from disk with the network off, and in a notebook frame, and shows the run as its link does', async ({ page, browser, baseURL }) => {
  test.setTimeout(300_000);
  await page.goto('/');
  await page.getByRole('button', { name: 'Load Llama demo' }).click();
  await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
  await page.getByRole('checkbox', { name: 'per-layer detail' }).check();
  await runPrompt(page, PROMPT, ['tokens', 'heads']);
  await page.locator('#heatmap g.tok').nth(7).click();

  // The link of the same run, opened in a fresh context: what the report must show.
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const url = await page.getByTestId('share-url').inputValue();
  await page.keyboard.press('Escape');
  const linkCtx = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 } });
  const linkPage = await linkCtx.newPage();
  await linkPage.goto(url);
  await expect(linkPage.getByTestId('shared-banner')).toBeVisible();
  await expect(linkPage.locator('#heatmap g.tok').first()).toBeVisible();
  const linkChips = await chips(linkPage);
  const linkHeads = await linkPage.locator('#heads .cell').count();
  await linkCtx.close();

  const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export report' }).click()]);
  expect(d.suggestedFilename()).toMatch(/\.html$/);
  const dir = join(tmpdir(), `depass-report-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'report.html');
  copyFileSync(await d.path(), file);
  const html = readFileSync(file, 'utf8');
  const size = statSync(file).size;
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'report-size.json'), JSON.stringify({ run: 'demo-llama, 20 tokens, tokens+heads, per-layer detail', bytes: size }, null, 1));
  console.log(`report of the demo run: ${(size / 1024).toFixed(1)} KiB`);
  // Its own policy: no connections, scripts only by hash.
  const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
  expect(policy).toContain("default-src 'none'");
  expect(policy).toContain("connect-src 'none'");
  expect(policy).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
  expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=["']https?:/);

  // From disk, network off: every request is logged, and only the file itself may be one.
  const offline = await browser.newContext({ offline: true, viewport: { width: 1440, height: 900 } });
  const requests: string[] = [];
  offline.on('request', (r) => requests.push(r.url()));
  const report = await offline.newPage();
  const errors: string[] = [];
  report.on('pageerror', (e) => errors.push(e.message));
  await watchPolicy(report);
  await report.goto(pathToFileURL(file).href);
  await expect(report.getByTestId('report-line')).toContainText('demo-llama');
  await expect(report.locator('#heatmap g.tok')).toHaveCount(linkChips.length);
  expect(await chips(report), 'the report shows the link’s chips and numbers').toEqual(linkChips);
  expect(await report.locator('#heads .cell').count()).toBe(linkHeads);
  await expect(report.locator('#layers')).toBeVisible();
  // The keys work as in the app: → moves the selected token.
  const selected = () => report.locator('#heatmap g.tok[aria-selected="true"]').getAttribute('aria-label');
  const before = await selected();
  await report.keyboard.press('ArrowLeft');
  expect(await selected()).not.toBe(before);
  await expect(report.getByRole('link', { name: 'Open in DePass Studio' })).toHaveAttribute('href', /#run=2\./);
  expect(requests, 'requests from the report').toEqual([pathToFileURL(file).href]);
  expect(await report.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
  expect(errors).toEqual([]);
  await offline.close();

  // In a notebook: the report as the srcdoc of a frame in another page.
  const nb = await browser.newContext({ offline: true, viewport: { width: 1440, height: 900 } });
  const host = await nb.newPage();
  const frameErrors: string[] = [];
  host.on('pageerror', (e) => frameErrors.push(e.message));
  const escaped = html.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
  await host.setContent(`<!doctype html><p>notebook cell</p><iframe id="cell" style="width:1200px;height:800px;border:0" srcdoc="${escaped}"></iframe>`);
  const frame = host.frameLocator('#cell');
  await expect(frame.getByTestId('report-line')).toContainText('demo-llama');
  await expect(frame.locator('#heatmap g.tok')).toHaveCount(linkChips.length);
  expect(frameErrors).toEqual([]);
  await nb.close();
});

test('a report whose run is damaged says so in one line', async ({ page, browser }) => {
  await page.goto('/');
  const template = await page.evaluate(() => fetch('report-template.html').then((r) => r.text()));
  const disk = await browser.newContext({ offline: true });
  const reader = await disk.newPage();
  const dir = join(tmpdir(), `depass-report-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const cases: [string, string, RegExp][] = [
    ['empty.html', template, /holds no run/],
    [
      'damaged.html',
      template.replace('id="depass-run"></script>', 'id="depass-run">{"format":"depass-report/1","fragment":"#run=2.AAAA"}</script>'),
      /damaged/,
    ],
    ['newer.html', template.replace('id="depass-run"></script>', 'id="depass-run">{"format":"depass-report/9","fragment":""}</script>'), /depass-report\/9/],
  ];
  for (const [name, text, message] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text);
    await reader.goto(pathToFileURL(file).href);
    await expect(reader.getByRole('alert')).toHaveText(message);
    expect((await reader.getByRole('alert').textContent())!.split('\n')).toHaveLength(1);
  }
  await disk.close();
});
