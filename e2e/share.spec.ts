// Permalinks in the browser: a run on stories260K (with a chosen target) is shared, opened in a
// fresh browser context without the model (same tokens, scores within the quantisation, the
// selection, the pinned head and the views), then re-run live there once the model is loaded
// (same scores as the original within 1e-3 of the largest). Damaged, newer and hostile links
// end in one message on the page; a link opened under another model is never re-run with it.
// Every context's requests stay on the app's origin.

import type { Browser, BrowserContext, Page } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DepassResult } from '../src/depass/result';
import { encodeRun } from '../src/share/permalink/encode';
import type { SharedRun } from '../src/share/permalink/format';
import { ARTIFACTS, NO_STORIES, expect, groupNeeds, haveStories, loadStories, needs, runAndWait, runPrompt, test } from './fixtures';

/** Exactly 64 stories260K tokens (BOS and 63 pieces). */
const PROMPT64 =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her big red ball. One day, she saw a dog and a cat and they all played together in the s';

async function exportJson(page: Page, button: string): Promise<DepassResult> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button, exact: true }).click()]);
  return JSON.parse(readFileSync(await download.path(), 'utf8')) as DepassResult;
}

const maxAbs = (xs: number[]) => xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

interface Tolerance {
  /** Allowed error of a row of scores (token scores of one target, or its heads over all layers). */
  row(row: number[]): number;
  logit: number;
}

/** Scores of `got` against `want`: rows within `tol`, the same tokens, targets and top ids. */
function expectScores(got: DepassResult, want: DepassResult, tol: Tolerance, what: string): void {
  expect(got.tokens, `${what}: tokens`).toEqual(want.tokens);
  expect(
    got.targets.map((t) => [t.position, t.id, t.contrast_id]),
    `${what}: targets`,
  ).toEqual(want.targets.map((t) => [t.position, t.id, t.contrast_id]));
  expect(
    got.predictions.map((p) => p.top.map((e) => e.id)),
    `${what}: predictions`,
  ).toEqual(want.predictions.map((p) => p.top.map((e) => e.id)));
  want.targets.forEach((t, i) => {
    expect(Math.abs(got.targets[i].logit - t.logit), `${what}: logit ${i}`).toBeLessThanOrEqual(tol.logit);
    const row = want.token!.scores[i];
    const d = maxAbs(row.map((v, s) => v - got.token!.scores[i][s]));
    expect(d, `${what}: token scores at target ${i}`).toBeLessThanOrEqual(tol.row(row));
    const heads = want.head!.scores[i].flat();
    const dh = maxAbs(heads.map((v, k) => v - got.head!.scores[i].flat()[k]));
    expect(dh, `${what}: head scores at target ${i}`).toBeLessThanOrEqual(tol.row(heads));
  });
}

/** A second context with the same request rule as the fixtures: nothing may leave the origin. */
async function freshContext(browser: Browser, baseURL: string): Promise<{ ctx: BrowserContext; page: Page; check: () => void }> {
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const origin = new URL(baseURL).origin;
  const all: string[] = [];
  const offsite: string[] = [];
  const problems: string[] = [];
  ctx.on('request', (r) => {
    const url = r.url();
    all.push(url);
    if (!(url.startsWith('data:') || url.startsWith('blob:') || new URL(url).origin === origin)) offsite.push(url);
  });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  return {
    ctx,
    page,
    check: () => {
      expect(all.length).toBeGreaterThan(0);
      expect(offsite, 'requests of the second context that left the origin').toEqual([]);
      expect(problems, 'page errors in the second context').toEqual([]);
    },
  };
}

/** A hand-made shared run: 3 tokens, token mode, from a model named `name` with this fingerprint. */
function handLink(prompt: string, fingerprint: string, name = 'elsewhere'): string {
  const result: DepassResult = {
    format: 'depass-result/1',
    model: { name, architecture: 'llama', fingerprint },
    prompt,
    rule: 'softmax',
    tokens: [
      { id: 1, text: '<s>', start: 0, end: 0 },
      { id: 5, text: prompt.slice(0, 5), start: 0, end: 5 },
      { id: 6, text: prompt.slice(5), start: 5, end: prompt.length },
    ],
    predictions: [0, 1, 2].map((t) => ({ top: [{ id: 10 + t, logit: 4 }] })),
    targets: [0, 1, 2].map((t) => ({ position: t, id: 10 + t, contrast_id: null, logit: 4 })),
    token: {
      scores: [
        [4, 0, 0],
        [1, 3, 0],
        [1, 2, 1],
      ],
      rest: [0, 0, 0],
    },
    completeness: { max_abs_error: 0 },
  };
  const run: SharedRun = {
    result,
    settings: { modes: ['token'], rule: 'softmax' },
    view: { selected: 1, views: ['tokens', 'prediction'], threshold: 0.1, head: null, layer: null },
    shape: { layers: 2, vocab_size: 32 },
    vocab: [10, 11, 12].map((id) => [id, `<i>tok${id}</i>`] as [number, string]),
  };
  return encodeRun(run);
}

test.describe('permalinks on stories260K', () => {
  groupNeeds(haveStories, NO_STORIES);

  test('share a run; open it without the model; load the model and re-run it live', async ({ page, browser, baseURL }) => {
    // Four 64-token runs with per-layer detail on a software GPU (two here, two in the other browser).
    test.setTimeout(360_000);
    const t0 = Date.now();
    const mark = (what: string) => console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
    await page.goto('/');
    await loadStories(page);
    await runPrompt(page, PROMPT64, ['tokens', 'heads']);
    await expect(page.locator('#heatmap g.tok')).toHaveCount(64);
    mark('first run');

    // The view a researcher would share: a position, a chosen target there, a pinned head, a threshold.
    await page.locator('#heatmap g.tok').nth(40).click();
    const original = await exportJson(page, 'Export JSON');
    await runAndWait(page, () => page.locator('#prediction .pred-row').nth(1).click());
    await expect(page.locator('#prediction .target-line')).toContainText('chosen');
    const originalTarget = await exportJson(page, 'Export target JSON');
    // Export JSON now holds the chosen target after the predictions.
    const originalAll = await exportJson(page, 'Export JSON');
    expect(originalAll.targets.slice(original.targets.length)).toEqual(originalTarget.targets);
    await page.locator('#heads .cell[data-layer="1"][data-head="2"]').click();
    await page.getByLabel('Flow graph edge threshold, as a fraction of the strongest edge').fill('0.3');
    await expect(page.locator('#heads')).toContainText('pinned L1 H2');

    // Share: keyboard reachable, copies the link, shows its size beside the button.
    const share = page.getByRole('button', { name: 'Share', exact: true });
    await share.focus();
    await page.keyboard.press('Enter');
    const url = await page.getByTestId('share-url').inputValue();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#run=2\.[A-Za-z0-9_-]+$/);
    await expect(page.getByTestId('link-size')).toHaveAttribute('data-chars', String(url.length));
    await expect(page.getByRole('dialog', { name: 'Link to this run' })).toContainText(`${url.length.toLocaleString('en')} characters`);
    await page.getByRole('dialog', { name: 'Link to this run' }).getByRole('checkbox', { name: 'include per-layer detail' }).uncheck();
    const compact = await page.getByTestId('share-url').inputValue();
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(
      join(ARTIFACTS, 'link-sizes.json'),
      JSON.stringify(
        {
          model: 'stories260K',
          tokens: 64,
          modes: ['token', 'head'],
          withDetail: url.length,
          withoutDetail: compact.length,
          note: 'full URL length in characters, including a chosen target at one position',
        },
        null,
        1,
      ),
    );
    console.log(`share link, stories260K, 64 tokens, token+head, with a chosen target: ${url.length} characters (${compact.length} without per-layer detail)`);
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog', { name: 'Link to this run' })).toHaveCount(0);
    await expect(share).toBeFocused();

    // A fresh browser without the model: the whole run, read-only, from the link alone.
    const other = await freshContext(browser, baseURL!);
    const p2 = other.page;
    mark('shared');
    await p2.goto(url);
    const banner = p2.getByTestId('shared-banner');
    await expect(banner).toContainText(`Shared run of ${original.model.name} (${original.model.fingerprint.slice(7, 15)}) — read-only`);
    await expect(p2.getByLabel('Loaded model')).toHaveCount(0);
    await expect(p2.locator('#heatmap g.tok')).toHaveCount(64);
    await expect(p2.locator('#heatmap g.tok.selected')).toHaveAttribute('data-position', '40');
    await expect(p2.locator('#prediction .target-line')).toContainText('chosen');
    await expect(p2.locator('#heads .cell')).toHaveCount(5 * 8);
    await expect(p2.locator('#heads')).toContainText('pinned L1 H2');
    await expect(p2.locator('#heads')).toContainText('not part of a shared link');
    await expect(p2.getByLabel('Flow graph edge threshold, as a fraction of the strongest edge')).toHaveValue('0.3');
    for (const id of ['flow', 'layers', 'lens']) await expect(p2.locator(`#${id} svg`).first()).toBeVisible();
    await expect(p2.locator('#prompt')).toHaveValue(PROMPT64);
    await p2.screenshot({ path: join(ARTIFACTS, 'shared-read-only.png') });

    // Same numbers, within the link's quantisation (max |row| / 254 per row of scores).
    const quantised: Tolerance = { row: (row) => maxAbs(row) / 254 + 1e-6, logit: 5e-4 + 1e-6 };
    expectScores(await exportJson(p2, 'Export JSON'), originalAll, quantised, 'read-only view');
    expectScores(await exportJson(p2, 'Export target JSON'), originalTarget, quantised, 'read-only target');

    // The matching model arrives: one click re-runs the link live, then its chosen target.
    mark('read-only view checked');
    await loadStories(p2);
    await expect(banner).toContainText('read-only');
    // Still read-only: Run does not run the link's prompt behind the banner's back.
    const row = p2.getByTestId('run-row');
    const before = Number(await row.getAttribute('data-runs'));
    await p2.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(p2.getByRole('alert')).toContainText('read-only');
    expect(await row.getAttribute('data-running')).toBe('no');
    await banner.getByRole('button', { name: 'Re-run live with the loaded model' }).click();
    await expect(row).toHaveAttribute('data-runs', String(before + 2), { timeout: 180_000 });
    await expect(row).toHaveAttribute('data-running', 'no');
    await expect(banner).toHaveCount(0);
    mark('live re-run');
    await expect(p2.locator('#heatmap g.tok.selected')).toHaveAttribute('data-position', '40');
    await expect(p2.locator('#prediction .target-line')).toContainText('chosen');
    expect(new URL(p2.url()).hash).toBe('');

    // Identical to the original run within engine tolerances (1e-3 of the largest score).
    const largest = Math.max(maxAbs(original.token!.scores.flat()), maxAbs(original.head!.scores.flat(2)));
    const engine: Tolerance = { row: () => 1e-3 * largest, logit: 1e-3 * largest };
    expectScores(await exportJson(p2, 'Export JSON'), originalAll, engine, 'live re-run');
    expectScores(await exportJson(p2, 'Export target JSON'), originalTarget, engine, 'live target re-run');
    await other.ctx.close();
    other.check();
  });
});

test.describe('links that cannot be used as they are', () => {
  test('a damaged link, a newer link, and markup in a link: one message or plain text; the app stays usable', async ({ page }) => {
    await page.goto('/');
    const good = handLink('<img src=x onerror="window.__hit=1">hello', 'sha256:feedface00');
    // Damaged: a cut-off link.
    await page.goto(`/${good.slice(0, good.length - 40)}`);
    await expect(page.getByRole('alert')).toContainText('Could not open this link: this link is damaged');
    await expect(page.getByText('Choose files…')).toBeVisible();
    await expect(page.getByTestId('shared-banner')).toHaveCount(0);
    // Newer version, through hashchange (no reload).
    await page.evaluate(() => (location.hash = '#run=9.AAAA'));
    await expect(page.getByRole('alert')).toContainText('this link is from a newer version of DePass Studio');
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await expect(page.getByRole('alert')).toHaveCount(0);
    expect(new URL(page.url()).hash).toBe('');
    // An over-long fragment is refused without being decoded; the page keeps answering.
    await page.evaluate(() => (location.hash = `#run=2.${'A'.repeat(1_100_000)}`));
    await expect(page.getByRole('alert')).toContainText('this link is too long (1100007 characters; at most 1000000)');
    expect(await page.evaluate(() => new Promise<number>((r) => requestAnimationFrame(() => r(1))))).toBe(1);
    await page.getByRole('button', { name: 'Dismiss' }).click();

    // Markup in the prompt and in token texts stays text.
    await page.evaluate((h) => (location.hash = h), good.slice(1));
    await expect(page.getByTestId('shared-banner')).toContainText('Shared run of elsewhere (feedface) — read-only');
    await expect(page.locator('#prompt')).toHaveValue('<img src=x onerror="window.__hit=1">hello');
    await expect(page.locator('img[src="x"]')).toHaveCount(0);
    await expect(page.locator('#prediction')).toContainText('<i>tok11</i>');
    await expect(page.locator('#prediction i')).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { __hit?: number }).__hit)).toBeUndefined();
    // Close returns to the empty app.
    await page.getByRole('button', { name: 'Close shared run' }).click();
    await expect(page.locator('#heatmap g.tok')).toHaveCount(0);
    expect(new URL(page.url()).hash).toBe('');
  });

  test('a link from another model is shown, not re-run with the loaded weights', async ({ page }) => {
    needs(haveStories, NO_STORIES);
    await page.goto('/');
    await loadStories(page);
    await page.evaluate((h) => (location.hash = h), handLink('Once upon a time', 'sha256:0badc0de99', 'other-model').slice(1));
    const banner = page.getByTestId('shared-banner');
    await expect(banner).toContainText('Shared run of other-model (0badc0de) — read-only');
    await expect(banner.getByRole('status')).toContainText('is not the model this run was made with');
    await expect(banner.getByRole('button', { name: /Re-run/ })).toHaveCount(0);
    await expect(page.locator('#heatmap g.tok')).toHaveCount(3);
    // The link's own token texts, not the loaded vocabulary's.
    await expect(page.locator('#prediction')).toContainText('<i>tok11</i>');
    const row = page.getByTestId('run-row');
    const runs = await row.getAttribute('data-runs');
    await page.locator('#prediction .pred-row').first().click();
    await expect(page.getByRole('alert')).toContainText('read-only');
    expect(await row.getAttribute('data-runs')).toBe(runs);
    // Closing gives the loaded model back, ready to run.
    await banner.getByRole('button', { name: 'Close shared run' }).click();
    await runPrompt(page, 'One day', ['tokens']);
    await expect(page.locator('#heatmap g.tok')).toHaveCount(3);
  });
});
