// Shared e2e fixtures: every test records every request the page and its workers make (page and
// context level) and fails if one leaves the app's origin (or the origins a test names with
// allowedOrigins), or if the page throws or the CSP refuses something; helpers load models
// through the file input and run prompts. Models are read from ../shared, which the tests say
// when absent. Under CI=true a missing requirement and a page that ran on the CPU fallback
// instead of WebGPU are failures, not skips or notes.

import { test as base, expect, type Page, type Request } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const STORIES = resolve(ROOT, '../shared/models/stories260K');
export const STORIES_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => resolve(STORIES, f));
export const haveStories = STORIES_FILES.every((f) => existsSync(f));
export const NO_STORIES = `../shared/models/stories260K is absent (looked in ${STORIES}); these tests need it`;
export const ARTIFACTS = resolve(ROOT, 'e2e/artifacts');

/** CI sets CI=true; there every missing requirement is a failure. */
export const inCI = process.env['CI'] === 'true' || process.env['CI'] === '1';

function missing(what: string): Error {
  return new Error(`${what}; under CI=true a missing requirement fails instead of skipping`);
}

/** In a test or a hook: skip it when `ok` is false, saying `why`; under CI=true, fail it. */
export function needs(ok: boolean, why: string): void {
  if (ok) return;
  if (inCI) throw missing(why);
  test.skip(true, why);
}

/** In a test.describe, before its hooks: the same for every test of the group. */
export function groupNeeds(ok: boolean, why: string): void {
  if (ok) return;
  if (inCI)
    test.beforeAll(() => {
      throw missing(why);
    });
  else test.skip(true, why);
}

/** The model card's backend line: "WebGPU · <adapter>" or "CPU reference". */
export async function backendShown(page: Page): Promise<string> {
  return (await page.getByLabel('Loaded model').locator('dt:text-is("backend") + dd').textContent()) ?? '';
}

export interface RequestLog {
  all: string[];
  offsite: string[];
}

export const test = base.extend<{ requests: RequestLog; allowedOrigins: string[] }>({
  /** Origins besides the app's that a test may reach (the stand-in Hub of hub.spec.ts); none by default. */
  allowedOrigins: [[], { option: true }],
  requests: [
    async ({ context, page, baseURL, allowedOrigins }, use, testInfo) => {
      const origin = new URL(baseURL!).origin;
      const log: RequestLog = { all: [], offsite: [] };
      const seen = new Set<Request>();
      const record = (r: Request) => {
        if (seen.has(r)) return;
        seen.add(r);
        const url = r.url();
        log.all.push(url);
        const ok = url.startsWith('data:') || url.startsWith('blob:') || new URL(url).origin === origin || allowedOrigins.includes(new URL(url).origin);
        if (!ok) log.offsite.push(url);
      };
      context.on('request', record);
      page.on('request', record);
      // Uncaught exceptions and Content-Security-Policy refusals fail the test too.
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
      });
      await use(log);
      // A test that skipped itself (its data is absent) loaded nothing: nothing to judge.
      if (testInfo.status === 'skipped') return;
      // A model that ran on the CPU fallback proves nothing about the WebGPU engine: noted
      // (scripts/test-all.mjs lists these), and a failure under CI=true.
      for (const p of context.pages()) {
        const card = p.getByLabel('Loaded model');
        if (p.isClosed() || (await card.count()) === 0) continue;
        // A page that asked for the CPU reference engine (?engine=cpu) ran where it was told to.
        if (new URL(p.url()).searchParams.get('engine') === 'cpu') continue;
        const backend = await backendShown(p);
        if (backend.startsWith('WebGPU')) continue;
        const note = `the page ran on the CPU fallback instead of WebGPU (backend: ${backend || 'unknown'})`;
        testInfo.annotations.push({ type: 'cpu-fallback', description: note });
        if (inCI) throw new Error(`${note}; under CI=true that is a failure`);
      }
      expect(log.all.length, 'the request recorder saw the page load').toBeGreaterThan(0);
      expect(log.offsite, 'requests that left the page origin').toEqual([]);
      expect(problems, 'page errors and CSP refusals').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Loads model files through the multi-file input and waits for the model card. */
export async function loadFiles(page: Page, files: string[]): Promise<void> {
  await page.getByTestId('files-input').setInputFiles(files);
  await expect(page.locator('.load-status.loading')).toHaveCount(0);
}

export async function loadStories(page: Page): Promise<void> {
  await loadFiles(page, STORIES_FILES);
  // Picked files carry no folder name, so the card names the model by its family.
  await expect(page.getByLabel('Loaded model').locator('dt:text-is("layers") + dd')).toHaveText('5');
}

/** Selects exactly these modes, types the prompt, runs and waits for the run to finish. */
export async function runPrompt(page: Page, prompt: string, modes: string[], timeout?: number): Promise<void> {
  for (const m of ['tokens', 'heads', 'neurons', 'modules']) {
    const box = page.getByRole('checkbox', { name: m, exact: true });
    if ((await box.isChecked()) !== modes.includes(m)) await box.click();
  }
  await page.locator('#prompt').fill(prompt);
  await runAndWait(page, () => page.getByRole('button', { name: 'Run', exact: true }).click(), timeout);
}

/** Does something that starts a run (Run, Ctrl+Enter, a target change) and waits for its end. */
export async function runAndWait(page: Page, start: () => Promise<unknown>, timeout?: number): Promise<void> {
  const row = page.getByTestId('run-row');
  const before = Number(await row.getAttribute('data-runs'));
  await start();
  await expect(row).toHaveAttribute('data-runs', String(before + 1), { timeout });
  await expect(row).toHaveAttribute('data-running', 'no', { timeout });
}

/** The CLI's result for the same model and prompt, or the reason it could not be had. */
export function cliResult(args: string[]): { json: unknown } | { error: string } {
  try {
    const out = execFileSync(process.execPath, ['bin/depass.mjs', '--model', STORIES, '--backend', 'cpu', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { json: JSON.parse(out) };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { error: (err.stderr || err.message).trim().split('\n').slice(-3).join(' | ') };
  }
}
