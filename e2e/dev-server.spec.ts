// The app as `npm start` serves it (Vite's development server, with its own policy variant for the
// hot-reload preamble): the page runs without errors or policy refusals, the demo model is one
// click away, and an example probe prompt runs end to end.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { devPort } from './playwright.config';
import { ROOT, expect, needs, runAndWait, test } from './fixtures';

test.use({ baseURL: `http://127.0.0.1:${devPort}` });

test('npm start: the demo model is one click away and a probe prompt runs', async ({ page }) => {
  needs(existsSync(resolve(ROOT, 'public/models/demo-llama/config.json')), 'public/models/demo-llama is not in this checkout');
  await page.goto('/');
  await page.getByRole('button', { name: 'Load Llama demo' }).click();
  await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
  await expect(page.locator('#prompt')).not.toHaveValue('');
  await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
  await expect(page.getByTestId('completeness')).toHaveClass(/ok/);
});
