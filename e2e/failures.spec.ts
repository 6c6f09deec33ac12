// Nothing is lost when the engine fails: a lost GPU device ends the run with a message, the last
// result stays on screen, and the next run works on a fresh device.

import { NO_STORIES, backendShown, expect, groupNeeds, haveStories, loadStories, needs, runAndWait, runPrompt, test } from './fixtures';

test.describe('failures', () => {
  groupNeeds(haveStories, NO_STORIES);

  test('a lost GPU device keeps the results and the next run recovers', async ({ page }) => {
    await page.goto('/?testhooks');
    await loadStories(page);
    const backend = await backendShown(page);
    needs(backend.startsWith('WebGPU'), `WebGPU in the browser: the model runs on the CPU here (${backend}), so there is no device to lose`);
    await runPrompt(page, 'Once upon a time', ['tokens']);
    await expect(page.locator('#heatmap g.tok')).toHaveCount(5);

    await page.evaluate(async () => {
      const hooks = (globalThis as unknown as { __depass: { engine: () => { loseDevice(): Promise<void> } } }).__depass;
      await hooks.engine().loseDevice();
    });
    await page.locator('#prompt').fill('One day');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText(/GPU was lost/);
    // The previous result is still there and usable.
    await expect(page.locator('#heatmap g.tok')).toHaveCount(5);
    await page.locator('#heatmap g.tok').nth(2).click();
    await expect(page.getByTestId('summary')).toContainText('At position 2');

    // The next run starts the GPU again.
    await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
    await expect(page.getByRole('alert')).toHaveCount(0);
    await expect(page.locator('#heatmap g.tok')).toHaveCount(3);
    await expect(page.getByTestId('completeness')).toHaveClass(/ok/);
  });
});
