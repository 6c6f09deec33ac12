// Keyboard only, on the bundled Llama demo: the focus never falls to the page when Run or Load
// demo disables itself; the arrow keys move the selected token from the prompt after Ctrl+Enter
// and from checkboxes and file inputs; the Share dialog keeps the focus inside and closes on
// Escape wherever the focus is. Needs public/models/demo-llama.

import type { Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT, expect, needs, runAndWait, test } from './fixtures';

const DEMO = resolve(ROOT, 'public/models/demo-llama/config.json');

/** The focused element: what it is, and whether a person can see it. */
async function focused(page: Page): Promise<{ what: string; visible: boolean }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { what: 'body', visible: false };
    const r = el.getBoundingClientRect();
    return {
      what: `${el.tagName.toLowerCase()}:${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 30) ?? ''}`,
      visible: r.width > 0 && r.height > 0,
    };
  });
}

const selectedPosition = (page: Page) => page.locator('#heatmap g.tok[aria-selected="true"]').getAttribute('data-position');

test.beforeEach(() => needs(existsSync(DEMO), 'public/models/demo-llama is not in this checkout'));

test('after Load demo and Run the focus is on a visible control, and comes back', async ({ page }) => {
  await page.goto('/');
  const demo = page.getByRole('button', { name: 'Load Llama demo' });
  await expect(demo).toBeEnabled();
  await demo.focus();
  await page.keyboard.press('Enter');
  // While the demo loads (the button disabled), the focus is on the load status.
  await expect(page.getByTestId('load-status')).toBeFocused();
  await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
  await expect(demo).toBeFocused();

  const run = page.getByRole('button', { name: 'Run', exact: true });
  await run.focus();
  const row = page.getByTestId('run-row');
  await page.keyboard.press('Enter');
  await expect(row).toHaveAttribute('data-running', 'yes');
  await expect(page.getByRole('button', { name: 'Cancel' })).toBeFocused();
  expect((await focused(page)).visible).toBe(true);
  await expect(row).toHaveAttribute('data-running', 'no');
  await expect(run).toBeFocused();
  expect(await focused(page)).toEqual({ what: 'button:Run', visible: true });

  // Cancel from the keyboard: the focus goes back to Run, and the status line says so.
  await run.press('Enter');
  await expect(page.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(row).toHaveAttribute('data-running', 'no');
  await expect(run).toBeFocused();
  await expect(page.getByTestId('run-status')).toContainText('cancelled');
});

test('arrow keys move the selected token from the prompt after Ctrl+Enter, and from checkboxes and file inputs', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Load Llama demo' }).click();
  await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
  const prompt = page.locator('#prompt');
  await prompt.fill('The cat sat on the mat. The dog sat on the');
  await expect(page.getByTestId('prompt-tokens')).not.toHaveClass(/stale/);
  await prompt.focus();
  await runAndWait(page, () => page.keyboard.press('Control+Enter'));
  // The focus is on the selected (last) token of the result; ← moves the selection.
  const T = await page.locator('#heatmap g.tok').count();
  await expect(page.locator('#heatmap g.tok[aria-selected="true"]')).toBeFocused();
  expect(await selectedPosition(page)).toBe(String(T - 1));
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  expect(await selectedPosition(page)).toBe(String(T - 3));
  // The focus follows the selection.
  await expect(page.locator('#heatmap g.tok[aria-selected="true"]')).toBeFocused();

  // The head grid, focused: one frame around it (no stroke on its numbers and labels), and a
  // cursor ringed in white and black so it shows on dark cells too.
  await page.getByRole('checkbox', { name: 'heads', exact: true }).check();
  await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
  await page.locator('#heads g.grid').focus();
  await expect(page.locator('#heads .grid-focus')).toHaveCount(1);
  const strokes = await page.locator('#heads g.grid text').evaluateAll((els) => [...new Set(els.map((e) => getComputedStyle(e).stroke))]);
  expect(strokes).toEqual(['none']);
  await expect(page.locator('#heads .cursor-halo')).toHaveCount(1);
  await expect(page.locator('#heads .cursor-outline')).toHaveCount(1);
  await expect(page.locator('#heads g.grid')).toHaveAttribute('aria-activedescendant', /-0-0$/);
  await page.locator('#heatmap g.tok[aria-selected="true"]').focus();

  // From a mode checkbox and from a file input the arrows move the selection too.
  await page.getByRole('checkbox', { name: 'heads', exact: true }).focus();
  await page.keyboard.press('ArrowRight');
  expect(await selectedPosition(page)).toBe(String(T - 2));
  await page.getByTestId('files-input').focus();
  await page.keyboard.press('ArrowLeft');
  expect(await selectedPosition(page)).toBe(String(T - 3));
  // In the prompt the arrows still move the caret, not the selection.
  await prompt.focus();
  await page.keyboard.press('ArrowLeft');
  expect(await selectedPosition(page)).toBe(String(T - 3));
});

test('the Share dialog keeps the focus inside and closes on Escape from anywhere', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Load Llama demo' }).click();
  await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
  await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
  const share = page.getByRole('button', { name: 'Share', exact: true });
  await share.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Link to this run' });
  await expect(dialog).toHaveAttribute('aria-modal', 'true');
  await expect(page.getByTestId('share-url')).toBeFocused();
  // Tab and Shift+Tab cycle through the dialog's own controls.
  for (let k = 0; k < 6; k++) {
    await page.keyboard.press('Tab');
    expect(await dialog.evaluate((d) => d.contains(document.activeElement)), `Tab ${k + 1} stays in the dialog`).toBe(true);
  }
  for (let k = 0; k < 6; k++) {
    await page.keyboard.press('Shift+Tab');
    expect(await dialog.evaluate((d) => d.contains(document.activeElement)), `Shift+Tab ${k + 1} stays in the dialog`).toBe(true);
  }
  // Escape with the focus moved outside by a script (or a screen reader's virtual cursor) still closes it.
  await page.locator('#prompt').focus();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(share).toBeFocused();
  // A click outside closes it too.
  await share.click();
  await expect(dialog).toBeVisible();
  await page.locator('h1').click();
  await expect(dialog).toHaveCount(0);
});
