// Hostile text through the whole app: a model (written by the test, see hostile-model.ts) whose
// vocabulary and name hold markup, bidirectional controls, the C0 controls XML forbids, a
// right-to-left word and a 300-character token (its script token a special one). It runs through
// every view and every export, with tokens and again with words and special tokens hidden: every
// SVG parses as XML, holds SVG elements only, no script, no event-handler attribute and no
// javascript: address, names a generic font family after any other, and shows the markup as text;
// every PNG renders, the report shows the texts from disk, no text is reordered outside its own
// token, no view overflows its panel, nothing runs, and the link round-trips.

import type { Page } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DepassResult } from '../src/depass/result';
import { expect, loadFiles, runAndWait, runPrompt, test } from './fixtures';
import { HOSTILE_NAME, HOSTILE_PROMPT, HOSTILE_TOKENS, writeHostileModel } from './hostile-model';

/** Panels that export pictures, by id. */
const VIEWS = ['heatmap', 'prediction', 'heads', 'flow', 'layers', 'lens', 'neurons', 'modules', 'ablation'];

/** Characters that reorder or hide text; none may reach the screen unescaped. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066\u2067]/;

async function download(page: Page, click: () => Promise<unknown>): Promise<Buffer> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()]);
  return readFileSync(await d.path());
}

/** Parses SVG text in the page: the browser's XML parser reports a <parsererror> on invalid XML. */
async function xmlError(page: Page, text: string): Promise<string | null> {
  return page.evaluate((t) => new DOMParser().parseFromString(t, 'image/svg+xml').querySelector('parsererror')?.textContent ?? null, text);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * What is wrong with an exported SVG, found by parsing it: not XML, an element outside the SVG
 * namespace (markup from a token that became elements), a script, an on* attribute, a javascript:
 * address, or the hostile markup missing from its text (then it was not written as text).
 */
async function svgProblems(page: Page, text: string): Promise<string[]> {
  return page.evaluate(
    ([t, ns]) => {
      const doc = new DOMParser().parseFromString(t, 'image/svg+xml');
      const err = doc.querySelector('parsererror');
      if (err) return [`not XML: ${err.textContent}`];
      const out: string[] = [];
      const all = [doc.documentElement, ...Array.from(doc.documentElement.querySelectorAll('*'))];
      for (const el of all) {
        if (el.namespaceURI !== ns) out.push(`element outside SVG: <${el.nodeName}>`);
        if (el.localName.toLowerCase() === 'script' || el.localName.toLowerCase() === 'foreignobject') out.push(`<${el.localName}>`);
        for (const a of Array.from(el.attributes)) {
          if (/^on/i.test(a.localName)) out.push(`event handler ${a.name} on <${el.localName}>`);
          const address = /^(href|src|action|formaction|xlink:href)$/i.test(a.name) || a.localName === 'href';
          if (address && /^\s*javascript:/i.test(a.value)) out.push(`javascript: address in ${a.name}`);
          if (a.name === 'style' && /url\(\s*['"]?\s*javascript:/i.test(a.value)) out.push('javascript: address in a style');
          // A named font may be missing where the file is opened: a generic family must follow it.
          const family = a.name === 'style' ? /font(?:-family)?\s*:([^;]*)/i.exec(a.value)?.[1] : undefined;
          if (family !== undefined && !/(^|[\s,])(serif|sans-serif|monospace|system-ui|ui-monospace|ui-sans-serif)\s*$/i.test(family.trim()))
            out.push(`font without a generic family: ${family.trim()}`);
        }
      }
      const words = Array.from(doc.querySelectorAll('text, title'))
        .map((e) => e.textContent)
        .join('\n');
      if (!words.includes('<img src=x')) out.push('the markup token is not in the text');
      return out;
    },
    [text, SVG_NS] as const,
  );
}

/** Every text node and label on the page with a bidirectional control left in it, or an unbalanced isolate. */
async function bidiLeaks(page: Page): Promise<string[]> {
  return page.evaluate((source) => {
    const bidi = new RegExp(source);
    const out: string[] = [];
    const check = (s: string, where: string) => {
      const opens = (s.match(/\u2068/g) ?? []).length;
      const closes = (s.match(/\u2069/g) ?? []).length;
      if (bidi.test(s) || opens !== closes) out.push(`${where}: ${JSON.stringify(s.slice(0, 80))}`);
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.parentElement?.closest('textarea, script, style')) continue;
      check(n.textContent ?? '', n.parentElement?.tagName ?? '?');
    }
    for (const el of Array.from(document.querySelectorAll('[aria-label], [title]'))) {
      check(el.getAttribute('aria-label') ?? '', `${el.tagName}[aria-label]`);
      check(el.getAttribute('title') ?? '', `${el.tagName}[title]`);
    }
    return out;
  }, BIDI.source);
}

/** Elements drawn outside their panel (tooltips excepted), and whether the page scrolls sideways. */
async function overflows(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const boxes = Array.from(document.querySelectorAll<HTMLElement>('.panel, .side-section, .share-banner'));
    for (const box of boxes) {
      const r = box.getBoundingClientRect();
      for (const el of Array.from(box.querySelectorAll('*'))) {
        if (el.closest('.tip, .share-popover, .visually-hidden, option, defs, title')) continue;
        const e = el.getBoundingClientRect();
        if (e.width === 0 && e.height === 0) continue;
        if (e.left < r.left - 1 || e.right > r.right + 1)
          out.push(
            `${box.id || box.className} > ${el.tagName}.${el.getAttribute('class') ?? ''}: ${Math.round(e.left)}..${Math.round(e.right)} outside ${Math.round(r.left)}..${Math.round(r.right)}`,
          );
      }
    }
    for (const label of ['Share', 'Export JSON']) {
      const b = Array.from(document.querySelectorAll('header button')).find((x) => x.textContent === label);
      if (!b) out.push(`${label}: not in the top bar`);
      else if (b.getBoundingClientRect().right > window.innerWidth) out.push(`${label}: pushed off the page`);
    }
    if (document.documentElement.scrollWidth > window.innerWidth) out.push(`the page scrolls sideways (${document.documentElement.scrollWidth} px)`);
    return out;
  });
}

/** Numbers after a token in a sentence run left to right: "(+1.2, 50%)" is not shown as "(%05 ,2.1+)". */
async function reversedNumbers(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluate((el) => {
    const text = el.textContent ?? '';
    const node = document.createTreeWalker(el, NodeFilter.SHOW_TEXT).nextNode();
    const out: string[] = [];
    if (!node) return ['no text'];
    const x = (i: number) => {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      return range.getBoundingClientRect().left;
    };
    for (const m of text.matchAll(/\(([+−][\d.]+), (-?[\d.]+%)/g)) {
      const at = m.index!;
      const xs = Array.from({ length: m[0].length }, (_, k) => x(at + k)).filter((v) => v > 0);
      if (xs.some((v, k) => k > 0 && v < xs[k - 1] - 0.5)) out.push(m[0]);
    }
    return out;
  });
}

test('a vocabulary of markup, controls, bidirectional text and a 300-character token goes through every view, export and link', async ({
  page,
  browser,
  baseURL,
}) => {
  test.setTimeout(480_000);
  const files = await writeHostileModel({ specialScript: true });
  // The SVG check itself finds each kind of problem (on a blank page: the app's policy would
  // report the planted handler).
  const planted = `<svg xmlns="${SVG_NS}"><script>x</script><a href="javascript:x" onclick="y"><text style="font-family:DejaVu Sans">plain</text></a><img xmlns="http://www.w3.org/1999/xhtml"/></svg>`;
  expect(await svgProblems(page, planted)).toEqual([
    '<script>',
    'javascript: address in href',
    'event handler onclick on <a>',
    'font without a generic family: DejaVu Sans',
    'element outside SVG: <img>',
    'the markup token is not in the text',
  ]);
  await page.goto('/');
  await loadFiles(page, files);
  await expect(page.getByLabel('Loaded model')).toContainText('hostile');
  await runPrompt(page, HOSTILE_PROMPT, ['tokens', 'heads', 'neurons', 'modules']);
  await expect(page.locator('#heatmap g.tok')).toHaveCount(15);

  // A chosen target (the 300-character token) against a distractor (the override token), at the last position.
  const target = page.getByRole('searchbox', { name: 'Target token' });
  await target.fill('#14');
  await runAndWait(page, () => target.press('Enter'));
  const contrast = page.getByRole('searchbox', { name: 'Contrast (distractor)' });
  await contrast.fill('#10');
  await runAndWait(page, () => contrast.press('Enter'));
  await expect(page.locator('#prediction .target-line')).toContainText('vs');
  await page.locator('#heads .cell').first().click();
  await expect(page.locator('#heads .attention image')).toBeVisible();
  await expect(page.locator('#neurons .neuron-row').first()).not.toContainText('…');

  // Nothing ran, nothing was injected.
  expect(await page.evaluate(() => (window as unknown as { __hit?: number }).__hit)).toBeUndefined();
  await expect(page.locator('img[src="x"], main script, svg svg')).toHaveCount(0);
  // Controls and overrides are shown, not obeyed; isolates are balanced; sentences read left to right.
  await expect(page.locator('#heatmap')).toContainText('<U+202E>gpj.exe');
  await expect(page.locator('#heatmap')).toContainText('<0x0C><0x0B><0x1B><0x07>');
  expect(await bidiLeaks(page), 'unescaped bidirectional controls or unbalanced isolates').toEqual([]);
  await page.locator('#heatmap g.tok').nth(4).click(); // "c", after the override token
  expect(await reversedNumbers(page, '[data-testid="summary"]'), 'numbers reordered in the summary').toEqual([]);
  await page.locator('body').press('End');
  expect(await reversedNumbers(page, '[data-testid="summary"]'), 'numbers reordered in the summary').toEqual([]);
  await page.getByRole('button', { name: /^Ablate top/ }).click();
  await expect(page.getByTestId('ablation-real')).not.toHaveText('…');
  await page.mouse.move(0, 0);
  // Long names and tokens are cut, never pushed out of their panel or off the page.
  expect(await overflows(page), 'elements outside their panel').toEqual([]);
  expect(await bidiLeaks(page), 'unescaped bidirectional controls or unbalanced isolates').toEqual([]);
  await expect(page.getByTestId('status-line')).toHaveAttribute('title', /hostile/);

  // Every picture: valid XML with its caption, SVG and text only, and a PNG that renders; with
  // tokens, then with words and the special (script) token hidden.
  for (const grouped of [false, true]) {
    await page.getByRole('checkbox', { name: 'Words', exact: true }).setChecked(grouped);
    await page.getByRole('checkbox', { name: 'Hide special tokens', exact: true }).setChecked(grouped);
    if (grouped) {
      // The prompt's only whitespace opens the control token (form feed): two words up to the
      // special token, which is hidden, then "h".
      await expect(page.locator('#heatmap g.tok')).toHaveCount(3);
      await expect(page.getByTestId('special-total')).toBeVisible();
      await page.mouse.move(0, 0);
      expect(await overflows(page), 'elements outside their panel (words)').toEqual([]);
      expect(await bidiLeaks(page), 'unescaped bidirectional controls or unbalanced isolates (words)').toEqual([]);
    }
    for (const v of VIEWS) {
      const panel = page.locator(`#${v}`);
      const title = (await panel.locator('h2').textContent())!;
      const svg = (await download(page, () => panel.getByRole('button', { name: `Export ${title} as SVG` }).click({ timeout: 30_000 }))).toString('utf8');
      expect(await xmlError(page, svg), `${v}.svg parses as XML`).toBeNull();
      expect(await svgProblems(page, svg), `${v}.svg${grouped ? ' (words)' : ''}`).toEqual([]);
      expect(svg, `${v}.svg names the model`).toContain('&lt;b&gt;hostile&lt;/b&gt;&lt;U+202E&gt;ledom&lt;0x07&gt;&lt;0x1B&gt;');
      if (grouped) continue;
      const png = await download(page, () => panel.getByRole('button', { name: `Export ${title} as PNG` }).click()).catch(async (e: Error) => {
        throw new Error(`${v}.png was not downloaded (${(await panel.locator('.error').allTextContents()).join('; ')}): ${e.message}`);
      });
      expect([...png.subarray(0, 4)], `${v}.png`).toEqual([0x89, 0x50, 0x4e, 0x47]);
    }
  }
  await expect(page.getByRole('alert')).toHaveCount(0);
  // The JSON holds the texts exactly, and the chosen target after the predictions.
  const json = JSON.parse(
    (await download(page, () => page.getByRole('button', { name: 'Export JSON', exact: true }).click())).toString('utf8'),
  ) as DepassResult;
  expect(json.model.name).toBe(HOSTILE_NAME);
  expect(json.tokens.map((t) => t.text)).toContain(HOSTILE_TOKENS.long);
  expect(json.tokens.map((t) => t.text)).toContain(HOSTILE_TOKENS.controls);
  expect(json.targets.slice(15).map((t) => [t.position, t.id, t.contrast_id])).toEqual([[14, 14, 10]]);
  // The report, opened from disk: the texts shown, none of them run, no reordering.
  const report = join(tmpdir(), `depass-hostile-report-${process.pid}.html`);
  writeFileSync(report, await download(page, () => page.getByRole('button', { name: 'Export report' }).click()));
  const disk = await browser.newContext({ offline: true, viewport: { width: 1440, height: 900 } });
  const reader = await disk.newPage();
  await reader.goto(pathToFileURL(report).href);
  await expect(reader.getByTestId('report-line')).toContainText('<b>hostile</b>');
  await expect(reader.locator('#heatmap')).toContainText('<U+202E>gpj.exe');
  expect(await reader.evaluate(() => (window as unknown as { __hit?: number }).__hit)).toBeUndefined();
  await expect(reader.locator('img[src="x"], main script, svg svg')).toHaveCount(0);
  expect(await bidiLeaks(reader), 'the report: unescaped bidirectional controls or unbalanced isolates').toEqual([]);
  await disk.close();

  // The link: the same run, texts and chosen target in a fresh browser.
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const url = await page.getByTestId('share-url').inputValue();
  await page.keyboard.press('Escape');
  const chips = async (p: Page) => p.locator('#heatmap g.tok').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
  const before = await chips(page);
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const p2 = await ctx.newPage();
  const errors: string[] = [];
  p2.on('pageerror', (e) => errors.push(e.message));
  await p2.goto(url);
  await expect(p2.getByTestId('shared-banner')).toContainText('Shared run of');
  await expect(p2.locator('#prompt')).toHaveValue(HOSTILE_PROMPT);
  await expect(p2.locator('#prediction .target-line')).toContainText('vs');
  await p2.mouse.move(0, 0);
  // Same chips as the original, words with the special token hidden, as the link says (the shown
  // scores are those the link holds, so compare the texts).
  await expect(p2.getByRole('checkbox', { name: 'Words', exact: true })).toBeChecked();
  await expect(p2.getByRole('checkbox', { name: 'Hide special tokens', exact: true })).toBeChecked();
  await expect(p2.locator('#heatmap g.tok')).toHaveCount(3);
  const after = await chips(p2);
  expect(after.map((l) => l!.split(' ')[0])).toEqual(before.map((l) => l!.split(' ')[0]));
  expect(await bidiLeaks(p2)).toEqual([]);
  expect(await overflows(p2)).toEqual([]);
  const back = JSON.parse((await download(p2, () => p2.getByRole('button', { name: 'Export JSON', exact: true }).click())).toString('utf8')) as DepassResult;
  expect(back.model.name).toBe(HOSTILE_NAME);
  expect(back.prompt).toBe(HOSTILE_PROMPT);
  expect(back.tokens.map((t) => [t.id, t.text])).toEqual(json.tokens.map((t) => [t.id, t.text]));
  expect(back.targets.map((t) => [t.position, t.id, t.contrast_id])).toEqual(json.targets.map((t) => [t.position, t.id, t.contrast_id]));
  for (const v of ['heatmap', 'flow', 'layers']) {
    const panel = p2.locator(`#${v}`);
    const title = (await panel.locator('h2').textContent())!;
    const svg2 = (await download(p2, () => panel.getByRole('button', { name: `Export ${title} as SVG` }).click())).toString('utf8');
    expect(await svgProblems(p2, svg2), `${v}.svg from the link`).toEqual([]);
  }
  expect(await p2.evaluate(() => (window as unknown as { __hit?: number }).__hit)).toBeUndefined();
  await ctx.close();
  expect(errors).toEqual([]);
});
