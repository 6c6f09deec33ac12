// Models by id from a local stand-in of the Hugging Face Hub (e2e/mock-hub.ts: the API listing,
// resolve/<revision>/<file>, large files redirected to a second host, ranges, ETags, 401/403 for
// a gated model, 404), in Chromium's real private file system: progress, cancel, resume after a
// dropped connection, a full disk, a gated model with and without a token, refusals, and a shared
// link that names a Hub model re-run with one click. Without pressing Download, nothing is asked.

import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { decodeRun } from '../src/share/permalink/decode';
import { ROOT, expect, runAndWait, test } from './fixtures';
import { GATED_TOKEN, MockHub } from './mock-hub';
import { cdnPort, hubPort } from './playwright.config';

const mock = new MockHub(hubPort, cdnPort);
const ID = 'depass/demo-llama';
/** The demo's safetensors file (about 3.2 MB): its size as the stand-in serves it. */
const WEIGHTS = statSync(resolve(ROOT, 'public/models/demo-llama/model.safetensors')).size;

test.beforeAll(async () => {
  await mock.start();
});
test.afterAll(async () => {
  await mock.stop();
});
test.beforeEach(() => mock.reset());

const field = (page: Page) => page.getByLabel('Hugging Face model id');
const alert = (page: Page) => page.locator('.hub-status .error');

async function download(page: Page, id: string): Promise<void> {
  await field(page).fill(id);
  await page.getByRole('button', { name: 'Download', exact: true }).click();
}

async function waitLoaded(page: Page, name: string): Promise<void> {
  await expect(page.getByLabel('Loaded model').locator('.model-name')).toHaveText(name);
  await expect(page.getByTestId('hub-progress')).toHaveCount(0);
}

/** Names of the staging folders of downloads in progress (OPFS). */
const staging = (page: Page) =>
  page.evaluate(async () => {
    const top = await navigator.storage.getDirectory();
    const names: string[] = [];
    try {
      const dir = await top.getDirectoryHandle('depass-downloads');
      for await (const n of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(n);
    } catch {
      // No download was ever started.
    }
    return names;
  });

const cdnSeen = () => mock.seen.filter((s) => s.host === 'cdn');

test('nothing is asked of the Hub until Download is pressed; the test build allows only the stand-in', async ({ page }) => {
  // No allowedOrigins here: the fixture fails the test on any request that leaves the app.
  await page.goto('/');
  await field(page).fill(ID);
  await page.getByText('Access token (gated or private models)').click();
  await page.getByLabel('Hugging Face access token').fill('hf_typed_but_unused');
  await page.getByRole('button', { name: 'Load Llama demo' }).click();
  await expect(page.getByLabel('Loaded model')).toContainText('demo-llama');
  expect(mock.seen).toEqual([]);
  const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(policy).toContain(`connect-src 'self' ${mock.hubOrigin} ${mock.cdnOrigin};`);
});

test.describe('models from the Hub', () => {
  test.use({ allowedOrigins: [mock.hubOrigin, mock.cdnOrigin] });

  test('a model by id downloads with progress, opens like a remembered model, and runs', async ({ page }) => {
    mock.throttle = { chunk: 32 * 1024, delayMs: 40 };
    await page.goto('/');
    await download(page, `https://huggingface.co/${ID}`);
    const progress = page.getByTestId('hub-progress');
    // Bytes of the total, the rate and the time left, while the weights arrive.
    await expect(progress).toContainText(/Downloading model\.safetensors…/);
    await expect(progress).toContainText(/\d+(\.\d)? (KB|MB) of 3\.\d MB · \d+(\.\d)? (KB|MB)\/s · \d+ s left/);
    const bar = progress.getByRole('progressbar');
    const now = Number(await bar.getAttribute('aria-valuenow'));
    const max = Number(await bar.getAttribute('aria-valuemax'));
    expect(now).toBeGreaterThan(0);
    expect(now).toBeLessThan(max);
    await waitLoaded(page, 'demo-llama');
    // On the shelf with its source, like a remembered model.
    const list = page.getByRole('list', { name: 'Remembered models' });
    await expect(list.getByRole('listitem')).toHaveCount(1);
    await expect(list).toContainText(ID);
    await expect(page.getByRole('checkbox', { name: 'Remember this model on this computer' })).toBeChecked();
    const sha = mock.hub.commits.get(ID)!;
    const manifest = await page.evaluate(async () => {
      const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('depass-models');
      for await (const dir of (root as unknown as { values(): AsyncIterable<FileSystemDirectoryHandle> }).values()) {
        return JSON.parse(await (await (await dir.getFileHandle('manifest.json')).getFile()).text());
      }
    });
    expect(manifest.source).toEqual({ hub: ID, revision: sha });
    expect(await staging(page)).toEqual([]);
    // The Hub's layout: the listing, each file by commit, the weights by redirect to the CDN.
    const hubPaths = mock.seen.filter((s) => s.host === 'hub').map((s) => `${s.status} ${s.path}`);
    expect(hubPaths[0]).toBe(`200 /api/models/${ID}/revision/main`);
    expect(hubPaths).toContain(`302 /${ID}/resolve/${sha}/model.safetensors`);
    expect(hubPaths).toContain(`200 /${ID}/resolve/${sha}/config.json`);
    expect(cdnSeen().map((s) => [s.status, s.sent])).toEqual([[200, WEIGHTS]]);
    await page.locator('#prompt').fill('Once upon a time');
    await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
    await expect(page.getByTestId('completeness')).toHaveClass(/ok/);
  });

  test('cancel stops the download and keeps nothing', async ({ page }) => {
    mock.throttle = { chunk: 16 * 1024, delayMs: 100 };
    await page.goto('/');
    await download(page, ID);
    const bar = page.getByTestId('hub-progress').getByRole('progressbar');
    await expect(page.getByTestId('hub-progress')).toContainText('model.safetensors');
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(100_000);
    await page.getByRole('button', { name: 'Cancel download' }).click();
    await expect(page.getByText(`Download of ${ID} cancelled; nothing was kept.`)).toBeVisible();
    await expect(page.getByLabel('Loaded model')).toHaveCount(0);
    await expect(page.getByRole('list', { name: 'Remembered models' })).toHaveCount(0);
    expect(await staging(page)).toEqual([]);
    expect(cdnSeen()[0].sent).toBeLessThan(WEIGHTS);
  });

  test('a dropped connection resumes with a range request; a lost one continues when Download is pressed again', async ({ page }) => {
    await page.goto('/');
    // One drop: the download goes on by itself from where it stopped.
    mock.cuts.push({ path: /^\/lfs\//, after: 1_000_000, times: 1 });
    await download(page, ID);
    await waitLoaded(page, 'demo-llama');
    const [first, second, ...more] = cdnSeen();
    expect(more).toEqual([]);
    expect([first.status, first.range, first.sent]).toEqual([200, null, 1_000_000]);
    const from = Number(/^bytes=(\d+)-$/.exec(second.range ?? '')?.[1]);
    expect(second.status).toBe(206);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(1_000_000);
    expect(second.ifRange).toMatch(/^"[0-9a-f]{64}"$/);
    expect(second.sent).toBe(WEIGHTS - from);

    // The connection stays down: the message says what to do, and the next Download continues.
    await page.getByRole('button', { name: /^Remove .* from this computer$/ }).click();
    await expect(page.getByRole('list', { name: 'Remembered models' })).toHaveCount(0);
    mock.reset();
    mock.cuts.push({ path: /^\/lfs\//, after: 600_000, times: 1 }, { path: /^\/lfs\//, after: 0, times: 50 });
    await download(page, ID);
    await expect(alert(page)).toHaveText(
      /^Could not download depass\/demo-llama: the connection to the Hub was lost \(.+ of 3\.\d MB of depass\/demo-llama downloaded\); check your connection and press Download again: it continues where it stopped$/,
      { timeout: 60_000 },
    );
    expect(await staging(page)).toHaveLength(1);
    mock.reset();
    await page.getByRole('button', { name: 'Download', exact: true }).click();
    await expect(page.getByRole('list', { name: 'Remembered models' }).getByRole('listitem')).toHaveCount(1);
    const resumed = cdnSeen();
    expect(resumed).toHaveLength(1);
    expect(resumed[0].status).toBe(206);
    expect(Number(/^bytes=(\d+)-$/.exec(resumed[0].range ?? '')?.[1])).toBeGreaterThan(0);
    expect(await staging(page)).toEqual([]);
  });

  test('a full disk says what to do, before and during the download; freeing space lets it finish', async ({ page }) => {
    await page.addInitScript(() => {
      const w = window as unknown as { __room: boolean; __failWrites: boolean };
      w.__room = false;
      w.__failWrites = false;
      const estimate = StorageManager.prototype.estimate;
      StorageManager.prototype.estimate = async function () {
        return w.__room ? estimate.call(this) : { usage: 1000, quota: 4096 };
      };
      const write = FileSystemWritableFileStream.prototype.write;
      FileSystemWritableFileStream.prototype.write = function (data: FileSystemWriteChunkType) {
        if (w.__failWrites && (data as { byteLength?: number }).byteLength! > 100_000) {
          return Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
        }
        return write.call(this, data);
      };
    });
    await page.goto('/');
    await download(page, ID);
    await expect(alert(page)).toHaveText(
      /^Could not download depass\/demo-llama: not enough storage space: depass\/demo-llama needs 3\.\d MB and this browser allows this site 3\.0 KB more; remove remembered models or free disk space, then press Download again$/,
    );
    expect(cdnSeen()).toEqual([]);
    // The estimate says there is room, but the disk fills while writing.
    await page.evaluate(() => Object.assign(window, { __room: true, __failWrites: true }));
    await page.getByRole('button', { name: 'Download', exact: true }).click();
    await expect(alert(page)).toHaveText(
      /^Could not download depass\/demo-llama: not enough storage space: depass\/demo-llama needs 3\.\d MB and this browser allows this site .+ more; remove remembered models or free disk space, then press Download again$/,
    );
    await expect(page.getByLabel('Loaded model')).toHaveCount(0);
    await page.evaluate(() => Object.assign(window, { __failWrites: false }));
    await page.getByRole('button', { name: 'Download', exact: true }).click();
    await waitLoaded(page, 'demo-llama');
  });

  test('a gated model: without a token and with a wrong one it says what to do; with the token it loads, and the token goes nowhere else', async ({ page }) => {
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto('/');
    await download(page, 'gated/demo-llama');
    await expect(alert(page)).toHaveText(
      `Could not download gated/demo-llama: gated/demo-llama is gated: accept its conditions on ${mock.hubOrigin}/gated/demo-llama, then paste an access token that can read it (huggingface.co/settings/tokens) and press Download again`,
    );
    await page.getByText('Access token (gated or private models)').click();
    await page.getByLabel('Hugging Face access token').fill('hf_not_the_right_one');
    await page.getByRole('button', { name: 'Download', exact: true }).click();
    await expect(alert(page)).toHaveText(/^Could not download gated\/demo-llama: your access token may not read gated\/demo-llama: accept its conditions on /);
    await page.getByLabel('Hugging Face access token').fill(GATED_TOKEN);
    await page.getByRole('button', { name: 'Download', exact: true }).click();
    await waitLoaded(page, 'demo-llama');
    // The token went to the Hub's own host with each file, never to the CDN.
    const withToken = mock.seen.filter((s) => s.authorization === `Bearer ${GATED_TOKEN}`);
    expect(withToken.length).toBeGreaterThan(0);
    expect(withToken.every((s) => s.host === 'hub')).toBe(true);
    expect(cdnSeen().length).toBeGreaterThan(0);
    expect(cdnSeen().every((s) => s.authorization === null)).toBe(true);
    // Not stored anywhere the page can keep things, not in the address, not logged.
    const kept = await page.evaluate(async () => {
      const texts: string[] = [location.href, document.cookie, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })];
      const walk = async (dir: FileSystemDirectoryHandle): Promise<void> => {
        for await (const h of (dir as unknown as { values(): AsyncIterable<FileSystemHandle> }).values()) {
          if (h.kind === 'directory') await walk(h as FileSystemDirectoryHandle);
          else if (h.name.endsWith('.json')) texts.push(await (await (h as FileSystemFileHandle).getFile()).text());
        }
      };
      await walk(await navigator.storage.getDirectory());
      const dbs = (await indexedDB.databases?.()) ?? [];
      return { texts, dbs: dbs.length };
    });
    expect(kept.texts.join('\n')).not.toContain(GATED_TOKEN);
    expect(kept.dbs).toBe(0);
    // A run's link names the model and its commit, not the token.
    await page.locator('#prompt').fill('Once upon a time');
    await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    const url = await page.getByTestId('share-url').inputValue();
    const run = decodeRun(new URL(url).hash);
    expect(run.source).toEqual({ hub: 'gated/demo-llama', revision: mock.hub.commits.get('gated/demo-llama') });
    expect(url + JSON.stringify(run)).not.toContain(GATED_TOKEN);
    expect(logs.join('\n')).not.toContain(GATED_TOKEN);
  });

  test('refusals in one line: a missing model, a repository without safetensors; a sharded model loads', async ({ page }) => {
    await page.goto('/');
    await download(page, 'depass/not-there');
    await expect(alert(page)).toHaveText('Could not download depass/not-there: depass/not-there is not on the Hub: check the id (owner/name)');
    await download(page, 'depass/only-bin');
    await expect(alert(page)).toHaveText(
      'Could not download depass/only-bin: depass/only-bin has no safetensors weights (it has pytorch_model.bin, demo-llama.Q4_K_M.gguf); DePass Studio reads safetensors only: choose a repository that has them',
    );
    await download(page, `${ID}@v9`);
    await expect(alert(page)).toHaveText(`Could not download ${ID}@v9: ${ID} has no revision 'v9': check the branch, tag or commit`);
    await download(page, 'depass/demo-llama-sharded');
    await waitLoaded(page, 'demo-llama-sharded');
    expect(cdnSeen().map((s) => s.path)).toHaveLength(2);
  });

  test('a shared link that names a Hub model: one click downloads its commit in a fresh browser, or finds it remembered', async ({
    page,
    browser,
    baseURL,
  }) => {
    await page.goto('/');
    await download(page, ID);
    await waitLoaded(page, 'demo-llama');
    const fingerprint = await page.getByLabel('Loaded model').locator('.model-name').getAttribute('title');
    await page.locator('#prompt').fill('Once upon a time there was');
    await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click());
    const tokens = await page.locator('#heatmap g.tok').count();
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    const url = await page.getByTestId('share-url').inputValue();
    const sha = mock.hub.commits.get(ID)!;
    expect(decodeRun(new URL(url).hash).source).toEqual({ hub: ID, revision: sha });

    // Someone else, with nothing remembered: the banner offers the download of that commit.
    const other = await fresh(browser, baseURL!);
    mock.reset();
    await other.page.goto(url);
    const banner = other.page.getByTestId('shared-banner');
    await expect(banner).toContainText('read-only');
    expect(mock.seen).toEqual([]);
    const row = other.page.getByTestId('run-row');
    const before = Number(await row.getAttribute('data-runs'));
    await banner.getByRole('button', { name: `Download ${ID} (${sha.slice(0, 7)}) from the Hugging Face Hub and re-run` }).click();
    await expect(row).toHaveAttribute('data-runs', String(before + 1), { timeout: 180_000 });
    await expect(row).toHaveAttribute('data-running', 'no');
    await expect(banner).toHaveCount(0);
    await expect(other.page.getByLabel('Loaded model').locator('.model-name')).toHaveAttribute('title', fingerprint!);
    await expect(other.page.getByTestId('completeness')).toHaveClass(/ok/);
    await expect(other.page.locator('#heatmap g.tok')).toHaveCount(tokens);
    // That commit, by hash, not the branch.
    const asked = mock.seen.filter((s) => s.host === 'hub').map((s) => s.path);
    expect(asked[0]).toBe(`/api/models/${ID}/revision/${sha}`);
    expect(asked.slice(1).every((p) => p.startsWith(`/${ID}/resolve/${sha}/`))).toBe(true);
    other.check();
    await other.ctx.close();

    // Where it is remembered, the same link loads it from this computer: nothing is downloaded.
    mock.reset();
    await page.goto('/');
    await page.goto(url);
    await page
      .getByTestId('shared-banner')
      .getByRole('button', { name: /from this computer and re-run/ })
      .click();
    await expect(page.getByTestId('shared-banner')).toHaveCount(0);
    expect(mock.seen).toEqual([]);
  });
});

/** A second browser profile with the fixture's request rule (the app and the stand-in Hub only). */
async function fresh(browser: Browser, baseURL: string): Promise<{ ctx: BrowserContext; page: Page; check: () => void }> {
  const ctx = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 } });
  const allowed = new Set([new URL(baseURL).origin, mock.hubOrigin, mock.cdnOrigin]);
  const offsite: string[] = [];
  const problems: string[] = [];
  ctx.on('request', (r) => {
    const u = r.url();
    if (!(u.startsWith('data:') || u.startsWith('blob:') || allowed.has(new URL(u).origin))) offsite.push(u);
  });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  return {
    ctx,
    page,
    check: () => {
      expect(offsite).toEqual([]);
      expect(problems).toEqual([]);
    },
  };
}
