// Words, hidden special tokens and tables on the Llama demo (its BOS has an empty span): the
// heatmap's and flow graph's word scores are the sums of the exported JSON's token scores and
// still add up to the logit; the CSV tables (tokens, words, heads) hold the JSON's numbers and add
// up to its logits; hiding special tokens changes no number shown or exported; a link keeps both
// settings. Expected values come from the JSON export, not from the views' code.

import type { Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DepassResult } from '../src/depass/result';
import { csvRecords } from '../src/testing/csv';
import { ROOT, expect, needs, runAndWait, test } from './fixtures';

const DEMO = resolve(ROOT, 'public/models/demo-llama/config.json');

async function download(page: Page, click: () => Promise<unknown>): Promise<string> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()]);
  return readFileSync(await d.path(), 'utf8');
}

const exportJson = (page: Page) => download(page, () => page.getByRole('button', { name: 'Export JSON', exact: true }).click());
const exportCsv = (page: Page) => download(page, () => page.getByRole('button', { name: 'Export CSV', exact: true }).click());

/** CSV as RFC 4180 has it (quoted cells, doubled quotes), read into objects by the header. */
const close = (a: number, b: number, what: string) => expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
/** Completeness in f32: the scores add up to the logit within 1e-4 of it. */
const complete = (sum: number, logit: number, what: string) =>
  expect(Math.abs(sum - logit), `${what}: ${sum} vs ${logit}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(logit)));
const sumOf = (row: number[], from: number, to: number) => row.slice(from, to + 1).reduce((a, v) => a + v, 0);

async function loadDemoAndRun(page: Page, prompt: string): Promise<void> {
  await page.goto('/');
  await page.getByRole('button', { name: 'Load Llama demo' }).click();
  await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
  for (const m of ['tokens', 'heads']) await page.getByRole('checkbox', { name: m, exact: true }).check();
  await page.locator('#prompt').fill(prompt);
  await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
  await expect(page.locator('#layers svg')).toBeVisible();
}

/** The heatmap's chips: first and last position, and the score each shows (full precision). */
async function chips(page: Page) {
  return page
    .locator('#heatmap g.tok')
    .evaluateAll((els) =>
      els.map((e) => ({ first: Number(e.getAttribute('data-first')), last: Number(e.getAttribute('data-position')), score: e.getAttribute('data-score') })),
    );
}

test('words: the views’ word scores are sums of the JSON’s token scores, add up to the logit, and export as CSV rows that do too', async ({
  page,
  browser,
  baseURL,
}) => {
  needs(existsSync(DEMO), 'public/models/demo-llama is not in this checkout');
  test.setTimeout(300_000);
  await loadDemoAndRun(page, 'Lily saw a butterfly near the river');
  const json = JSON.parse(await exportJson(page)) as DepassResult;
  const T = json.tokens.length;
  const i = json.targets.findIndex((t) => t.position === T - 1);
  const row = json.token!.scores[i];

  // The table of tokens and heads holds the JSON's numbers, one for one, and adds up to each logit.
  const table = csvRecords(await exportCsv(page));
  json.targets.forEach((tg, k) => {
    const mine = table.filter((r) => Number(r.position) === tg.position && r.target === String(tg.id));
    const tokens = mine.filter((r) => r.mode === 'token');
    expect(tokens.map((r) => r.component)).toEqual([...json.tokens.map((_, s) => String(s)), 'rest']);
    tokens.slice(0, T).forEach((r, s) => expect(Number(r.score), `token ${s} of target ${k}`).toBe(json.token!.scores[k][s]));
    expect(Number(tokens[T].score)).toBe(json.token!.rest[k]);
    complete(
      tokens.reduce((a, r) => a + Number(r.score), 0),
      tg.logit,
      `token rows of target ${k}`,
    );
    json.head!.layers.forEach((layer, n) => {
      const heads = mine.filter((r) => r.mode === 'head' && r.layer === String(layer));
      heads.slice(0, -1).forEach((r, h) => expect(Number(r.score)).toBe(json.head!.scores[k][n][h]));
      complete(
        heads.reduce((a, r) => a + Number(r.score), 0),
        tg.logit,
        `head rows of target ${k}, layer ${layer}`,
      );
    });
  });

  await page.getByRole('checkbox', { name: 'Words', exact: true }).check();
  // Chips are words: they cover the prompt in order, some hold several tokens, each shows its tokens' sum.
  const words = await chips(page);
  expect(words.length).toBeLessThan(T);
  expect(words.some((w) => w.last > w.first)).toBe(true);
  expect(words[0].first).toBe(0);
  words.forEach((w, k) => k > 0 && expect(w.first).toBe(words[k - 1].last + 1));
  expect(words[words.length - 1].last).toBe(T - 1);
  for (const w of words) close(Number(w.score), sumOf(row, w.first, w.last), `word ${w.first}-${w.last}`);
  // Completeness with words: Σ words + rest is the logit, and the badge says so.
  const wordSum = words.reduce((a, w) => a + Number(w.score), 0) + json.token!.rest[i];
  complete(wordSum, json.targets[i].logit, 'Σ words + rest');
  const badge = page.getByTestId('completeness');
  await expect(badge).toContainText('Σ word scores');
  await expect(badge).toHaveClass(/ok/);
  close(Number(await badge.getAttribute('data-sum')), wordSum, 'the badge’s sum');
  // The flow graph's sources are the same words with the same sums.
  const flow = await page
    .locator('#flow text.node-label[data-positions]')
    .evaluateAll((els) => els.map((e) => ({ at: e.getAttribute('data-positions')!.split(' ').map(Number), score: Number(e.getAttribute('data-score')) })));
  expect(flow.some((n) => n.at.length > 1)).toBe(true);
  for (const n of flow) close(n.score, sumOf(row, n.at[0], n.at[n.at.length - 1]), `flow source ${n.at.join(',')}`);
  // Pictures say that they show words.
  const svg = await download(page, () => page.getByRole('button', { name: 'Export Token attribution as SVG' }).click());
  expect(svg).toContain('Token attribution per word');
  expect(svg).toContain('scores per word (each the exact sum of its tokens’ scores)');

  // The table per word: each word row is the sum of its tokens' JSON scores; the rows add up to the logit.
  for (const csv of [await exportCsv(page), await download(page, () => page.getByRole('button', { name: 'Export Token attribution as CSV' }).click())]) {
    const rows = csvRecords(csv);
    expect(rows.some((r) => r.mode === 'token')).toBe(false);
    json.targets.forEach((tg, k) => {
      const mine = rows.filter((r) => r.mode === 'word' && Number(r.position) === tg.position && r.target === String(tg.id));
      expect(mine.map((r) => r.component)).toEqual([...words.map((w) => (w.first === w.last ? `${w.first}` : `${w.first}-${w.last}`)), 'rest']);
      words.forEach((w, n) => close(Number(mine[n].score), sumOf(json.token!.scores[k], w.first, w.last), `word row ${n} of target ${k}`));
      close(
        mine.reduce((a, r) => a + Number(r.score), 0),
        json.token!.scores[k].reduce((a, v) => a + v, 0) + json.token!.rest[k],
        `word rows of target ${k}`,
      );
      complete(
        mine.reduce((a, r) => a + Number(r.score), 0),
        tg.logit,
        `word rows of target ${k} against its logit`,
      );
    });
  }

  // A link keeps the words: a fresh browser shows the same chips.
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const url = await page.getByTestId('share-url').inputValue();
  await page.keyboard.press('Escape');
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 } });
  const p2 = await ctx.newPage();
  await p2.goto(url);
  await expect(p2.getByTestId('shared-banner')).toBeVisible();
  await expect(p2.getByRole('checkbox', { name: 'Words', exact: true })).toBeChecked();
  expect((await chips(p2)).map((w) => [w.first, w.last])).toEqual(words.map((w) => [w.first, w.last]));
  await ctx.close();
});

/** Every number the views show, keyed by what it belongs to, and every export's text. */
async function numbers(page: Page) {
  const keyed = (sel: string, key: string, value: string) =>
    page.locator(sel).evaluateAll((els, [k, v]) => Object.fromEntries(els.map((e) => [e.getAttribute(k)!, e.getAttribute(v)!])), [key, value]);
  const summary = (await page.getByTestId('summary').textContent())!;
  return {
    chips: await keyed('#heatmap g.tok', 'data-first', 'data-score'),
    flow: await keyed('#flow text.node-label[data-position]', 'data-positions', 'data-score'),
    layers: await keyed('#layers text.legend-label[data-source]', 'data-source', 'data-share'),
    special: {
      heatmap: await page
        .getByTestId('special-total')
        .getAttribute('data-score', { timeout: 1000 })
        .catch(() => null),
      flow: await page
        .locator('#flow text.special-total')
        .getAttribute('data-score', { timeout: 1000 })
        .catch(() => null),
      layers: await page
        .locator('#layers text.legend-label[data-source="special"]')
        .getAttribute('data-share', { timeout: 1000 })
        .catch(() => null),
    },
    // "“word” at 3 (+1.2, 40%)": the summary's numbers by source.
    summary: Object.fromEntries([...summary.matchAll(/ at ([\d–]+) \(([^)]*)\)/g)].map((m) => [m[1], m[2]])),
    heads: await page.locator('#heads').textContent(),
    prediction: await page.locator('#prediction').textContent(),
    badge: await page.getByTestId('completeness').getAttribute('data-sum'),
    json: await exportJson(page),
    csv: await exportCsv(page),
  };
}

test('hiding special tokens changes no number shown or exported; their total is one entry', async ({ page }) => {
  needs(existsSync(DEMO), 'public/models/demo-llama is not in this checkout');
  test.setTimeout(300_000);
  // Few enough tokens that the flow graph draws every source.
  await loadDemoAndRun(page, 'Lily saw the river');
  const json = JSON.parse(await exportJson(page)) as DepassResult;
  expect(json.tokens[0]).toMatchObject({ text: '<s>', start: 0, end: 0 });
  const T = json.tokens.length;
  const bos = json.token!.scores[json.targets.findIndex((t) => t.position === T - 1)][0];
  const hide = page.getByRole('checkbox', { name: 'Hide special tokens', exact: true });
  for (const words of [false, true]) {
    await page.getByRole('checkbox', { name: 'Words', exact: true }).setChecked(words);
    await hide.uncheck();
    const off = await numbers(page);
    await hide.check();
    const on = await numbers(page);
    const what = words ? 'words' : 'tokens';
    // The BOS leaves the heatmap, the flow graph and the summary; every other number stays as it was.
    expect(Object.keys(off.chips), what).toContain('0');
    expect(Object.keys(on.chips), what).not.toContain('0');
    for (const view of ['chips', 'flow', 'layers', 'summary'] as const) {
      for (const [k, v] of Object.entries(on[view])) if (k in off[view]) expect(v, `${what}: ${view} ${k}`).toBe(off[view][k]);
      expect(Object.keys(on[view]).filter((k) => k !== '0' && k in off[view]).length, `${what}: ${view} still shows the rest`).toBeGreaterThan(0);
    }
    expect(Object.keys(on.summary), what).not.toContain('0');
    expect(on.flow['0'], what).toBeUndefined();
    // The hidden total is the BOS's own score (and share), wherever it is shown.
    expect(Number(on.special.heatmap), what).toBe(bos);
    expect(Number(on.special.flow), what).toBe(bos);
    if (off.layers['0'] !== undefined) expect(on.special.layers, what).toBe(off.layers['0']);
    expect(off.special, what).toEqual({ heatmap: null, flow: null, layers: null });
    for (const same of ['heads', 'prediction', 'badge', 'json', 'csv'] as const) expect(on[same], `${what}: ${same}`).toBe(off[same]);
  }
});
