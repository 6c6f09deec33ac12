// Framing: the served policy forbids it (frame-ancestors 'none', sent as a header, which a meta
// tag cannot carry), the built page holds the rest of the policy as a meta tag, the build writes
// the header for static hosts (_headers), and a page framed where no header protects it refuses
// to run. Uses Playwright's own test (not the fixtures), since a refused frame is logged as a
// policy refusal, which the fixtures count as a failure.

import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const DIST = resolve(import.meta.dirname, '..', 'test-results/e2e-dist');

test('the policy forbids framing; a frame without the header shows only a way out', async ({ page, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const offsite: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) offsite.push(r.url());
  });
  // The header, on the page and on every script (the workers get their policy from it).
  const res = await page.goto('/');
  const header = (await res!.allHeaders())['content-security-policy'] ?? '';
  expect(header).toContain("frame-ancestors 'none'");
  expect(header).toContain("default-src 'self'");
  const script = await page.request.get((await page.locator('script[type="module"]').getAttribute('src'))!);
  expect(script.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
  // The built page's meta tag: the same policy without frame-ancestors (ignored in a meta tag).
  const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(meta).toContain("connect-src 'self'");
  expect(meta).not.toContain('frame-ancestors');
  expect(readFileSync(resolve(DIST, '_headers'), 'utf8')).toContain("frame-ancestors 'none'");

  // Framed with the header: the browser refuses the frame.
  await page.route('**/framing-host', (r) => r.fulfill({ contentType: 'text/html', body: '<iframe src="/" width="800" height="400"></iframe>' }));
  await page.goto('/framing-host'); // waits for the load event, which waits for the frame
  expect(page.frames()).toHaveLength(2);
  expect(await page.frames()[1].locator('#root').count(), 'the app inside a frame its policy forbids').toBe(0);

  // Framed on a host that sends no header (only the meta tag applies): the app shows a way out.
  await page.route('**/?unprotected', async (r) => {
    const response = await r.fetch();
    const headers = { ...response.headers() };
    delete headers['content-security-policy'];
    await r.fulfill({ response, headers });
  });
  await page.route('**/framing-host-2', (r) => r.fulfill({ contentType: 'text/html', body: '<iframe src="/?unprotected" width="800" height="400"></iframe>' }));
  await page.goto('/framing-host-2');
  const frame = page.frameLocator('iframe');
  await expect(frame.getByText('This page was opened inside another page')).toBeVisible();
  await expect(frame.getByRole('link', { name: 'Open it in its own tab' })).toHaveAttribute('target', '_blank');
  await expect(frame.locator('.app')).toHaveCount(0);
  expect(offsite).toEqual([]);
});
