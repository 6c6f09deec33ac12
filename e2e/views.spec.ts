// Every view at a desktop size (1440×900) after a run with all modes: screenshots under
// e2e/artifacts/ for a person to look at, each view's PNG and SVG export checked, ablation,
// head pinning with its attention pattern, and keyboard-only use of the head grid.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { ARTIFACTS, NO_STORIES, STORIES, expect, groupNeeds, haveStories, runPrompt, test } from './fixtures';

const VIEWS = ['heatmap', 'prediction', 'heads', 'flow', 'layers', 'lens', 'neurons', 'modules', 'ablation'];
const PROMPT = 'Lily had a red ball. She gave the ball to';

async function prepare(page: Page): Promise<void> {
  await page.goto('/');
  await page.getByTestId('folder-input').setInputFiles(STORIES);
  await expect(page.getByLabel('Loaded model')).toContainText('stories260K');
  await page.getByRole('checkbox', { name: 'neurons', exact: true }).check();
  await page.getByLabel('Layer for neuron and module modes').selectOption('3');
  await runPrompt(page, PROMPT, ['tokens', 'heads', 'neurons', 'modules']);
}

test.describe('views', () => {
  groupNeeds(haveStories, NO_STORIES);

  test('screenshots and exports of every view', async ({ page }) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await prepare(page);
    const T = await page.locator('#heatmap g.tok').count();
    expect(T).toBeGreaterThan(8);

    // Pin the strongest-looking head: its attention pattern is fetched and drawn beside the grid.
    await page.locator('#heads .cell[data-layer="1"][data-head="2"]').click();
    await expect(page.locator('#heads .attention image')).toBeVisible();
    await expect(page.locator('#heads .attention image')).toHaveAttribute('href', /^data:image\/png;base64,/);
    // One row label per query position.
    await expect(page.locator('#heads .attention text.tick.mono')).toHaveCount(2 * T);
    // Neurons show what they promote once the engine answers.
    await expect(page.locator('#neurons .neuron-row').first()).not.toContainText('…');
    // The flow graph has token→head edges once the attention rows arrived.
    await expect(page.locator('#flow .edges path').first()).toBeVisible();
    // Ablate the top 3 heads: the real change appears next to the predicted one.
    await page.getByRole('button', { name: /^Ablate top/ }).click();
    await expect(page.getByTestId('ablation-real')).not.toHaveText('…');
    const real = Number((await page.getByTestId('ablation-real').textContent())!.replace('−', '-').replace('+', ''));
    expect(Number.isFinite(real)).toBe(true);

    await page.mouse.move(0, 0);
    await page.locator('main.views').evaluate((el) => el.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'page.png') });
    await page.locator('aside.side').screenshot({ path: join(ARTIFACTS, 'side.png') });
    for (const v of VIEWS) {
      const panel = page.locator(`#${v}`);
      await panel.scrollIntoViewIfNeeded();
      await panel.screenshot({ path: join(ARTIFACTS, `view-${v}.png`) });
      // Charts are images (or, when they hold controls, groups) with a name for assistive technology.
      await expect(panel.locator('svg[role="img"], svg[role="group"]').first()).toHaveAttribute('aria-label', /\w/);
    }

    // Every view exports as SVG (styles inlined) and PNG (a real PNG file).
    for (const v of VIEWS) {
      const panel = page.locator(`#${v}`);
      const title = (await panel.locator('h2').textContent())!;
      const [svg] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: `Export ${title} as SVG` }).click()]);
      expect(svg.suggestedFilename()).toMatch(/^depass_stories260k_.*\.svg$/);
      const text = readFileSync(await svg.path(), 'utf8');
      expect(text).toContain('<svg');
      expect(text).toContain('xmlns="http://www.w3.org/2000/svg"');
      expect(text).toMatch(/style="[^"]*fill:/);
      writeFileSync(join(ARTIFACTS, `export-${v}.svg`), text);
      const [png] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: `Export ${title} as PNG` }).click()]);
      const bytes = readFileSync(await png.path());
      expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(bytes.length).toBeGreaterThan(1000);
      writeFileSync(join(ARTIFACTS, `export-${v}.png`), bytes);
    }
  });

  test('keyboard: head grid, Esc, the summary for screen readers', async ({ page }) => {
    await prepare(page);
    const summary = page.getByTestId('summary');
    await expect(summary).toHaveAttribute('aria-live', 'polite');
    await expect(summary).toContainText('the largest contributions come from source tokens');

    // Tab to the head grid, move with arrows, pin with Enter.
    const grid = page.locator('#heads g.grid');
    await grid.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await expect(page.locator('#heads .caption')).toContainText('pinned L1 H1');
    await expect(page.locator('#heads .attention image')).toBeVisible();
    // Arrows inside the grid do not move the token selection.
    await expect(page.locator('#heatmap g.tok.selected')).toHaveAttribute('data-position', String((await page.locator('#heatmap g.tok').count()) - 1));
    // Esc drops the pin first, then the selection.
    await page.locator('body').press('ArrowLeft');
    await page.keyboard.press('Escape');
    await expect(page.locator('#heads .attention')).toHaveCount(0);
    await page.keyboard.press('Escape');

    // Every button and field is reachable by Tab and shows a focus ring.
    const seen = new Set<string>();
    for (let k = 0; k < 80; k++) {
      await page.keyboard.press('Tab');
      const d = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return null;
        // Visually hidden file inputs show their ring on the label around them.
        const shown = el.classList.contains('visually-hidden') && el.parentElement ? el.parentElement : el;
        const cs = getComputedStyle(shown);
        return { name: el.getAttribute('aria-label') || el.textContent?.trim().slice(0, 30) || el.tagName, outline: cs.outlineStyle, width: cs.outlineWidth };
      });
      if (d) {
        seen.add(d.name);
        expect(d.outline, `focus ring on ${d.name}`).not.toBe('none');
      }
    }
    for (const name of ['Choose model files', 'Run', 'Export JSON', 'MLP sharing rule']) expect([...seen]).toContain(name);
  });
});
