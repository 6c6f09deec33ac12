// `npm run bench:memory`: peak memory of the `depass` command and of the app's page while they load
// and run token mode on a checkpoint of a billion parameters (random weights of TinyLlama-1.1B's
// shape, BF16, written to a temporary folder first), printed beside the checkpoint's size. On a
// software adapter the GPU's buffers live in the same memory, so the figures include them; what
// the app holds beside them is the difference. Asserts nothing.
//
//   npm run bench:memory [-- --dir DIR] [--tokens N] [--skip-cli] [--skip-page]

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM } from './browser/chromium';
import { TINYLLAMA, writeLargeCheckpoint } from './large-model';

const { values } = parseArgs({
  options: { dir: { type: 'string' }, tokens: { type: 'string', default: '6' }, 'skip-cli': { type: 'boolean' }, 'skip-page': { type: 'boolean' } },
});
const log = (s: string) => process.stderr.write(s + '\n');
const MiB = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
const prompt = 'the cat sat on the mat'.slice(0, Math.max(1, Number(values.tokens)));

/** Resident memory of a process and its descendants, in bytes (Linux /proc). */
function treeRss(root: number): number {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // the process ended meanwhile
    }
  }
  let total = 0;
  const visit = (pid: number) => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      return;
    }
    for (const c of children.get(pid) ?? []) visit(c);
  };
  visit(root);
  return total;
}

/** A child process of `parent` whose command line contains `name`. */
function childNamed(parent: number, name: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(name)) return Number(d);
    } catch {
      // the process ended meanwhile
    }
  }
  return undefined;
}

/** Samples a process tree's memory every 200 ms until `done` settles; returns the peak. */
async function peakWhile(pid: () => number | undefined, done: Promise<unknown>): Promise<number> {
  let peak = 0;
  let finished = false;
  void done.finally(() => (finished = true));
  while (!finished) {
    const p = pid();
    if (p) peak = Math.max(peak, treeRss(p));
    await new Promise((r) => setTimeout(r, 200));
  }
  await done;
  return peak;
}

async function measureCli(dir: string): Promise<number> {
  log('CLI: depass --backend webgpu --modes token');
  const child = spawn(
    process.execPath,
    [resolve('bin/depass.mjs'), '--model', dir, '--prompt', prompt, '--modes', 'token', '--backend', 'webgpu', '--positions', 'last'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exit = new Promise<number>((ok) => child.on('exit', (code) => ok(code ?? 1)));
  const peak = await peakWhile(() => child.pid, exit);
  if ((await exit) !== 0) throw new Error('the CLI run failed');
  const result = JSON.parse(out) as { completeness: { max_abs_error: number } };
  log(`  completeness error ${result.completeness.max_abs_error.toExponential(1)}`);
  return peak;
}

async function measurePage(dir: string): Promise<number> {
  const { chromium } = await import('playwright-core');
  const { build, preview } = await import('vite');
  const out = mkdtempSync(join(tmpdir(), 'depass-memory-page-'));
  log('page: building the app');
  await build({ root: process.cwd(), logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
  const server = await preview({ root: process.cwd(), logLevel: 'warn', build: { outDir: out }, preview: { port: 0, host: '127.0.0.1' } });
  const url = server.resolvedUrls?.local[0] ?? '';
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--enable-unsafe-webgpu',
      '--no-sandbox',
      '--headless',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  // Chromium is a child of this process; every other process of the page descends from it.
  const pid = () => childNamed(process.pid, 'chrom');
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(3_600_000);
    await page.goto(url);
    const work = (async () => {
      log('page: loading the checkpoint through the file picker');
      await page
        .getByTestId('files-input')
        .setInputFiles(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => join(dir, f)));
      await page.getByLabel('Loaded model').waitFor();
      const backend = await page.getByLabel('Loaded model').locator('dt:text-is("backend") + dd').textContent();
      log(`  loaded on ${backend}`);
      for (const m of ['tokens', 'heads', 'neurons', 'modules']) {
        const box = page.getByRole('checkbox', { name: m, exact: true });
        if ((await box.isChecked()) !== (m === 'tokens')) await box.click();
      }
      await page.locator('#prompt').fill(prompt);
      log('page: running token mode');
      const row = page.getByTestId('run-row');
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      await row.getAttribute('data-runs').then(async (before) => {
        await page.waitForFunction((b) => document.querySelector('[data-testid="run-row"]')?.getAttribute('data-runs') !== b, before);
      });
      await page.waitForFunction(() => document.querySelector('[data-testid="run-row"]')?.getAttribute('data-running') === 'no');
      log(`  ${await page.locator('[data-testid="completeness"]').textContent()}`);
    })();
    return await peakWhile(pid, work);
  } finally {
    await browser.close();
    await server.close();
    rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = values.dir ?? join(tmpdir(), 'depass-large-model');
  let size: number;
  if (existsSync(join(dir, 'model.safetensors'))) size = statSync(join(dir, 'model.safetensors')).size;
  else {
    log(`writing ${TINYLLAMA.name} (BF16) to ${dir}`);
    size = writeLargeCheckpoint(dir, TINYLLAMA);
  }
  const rows: string[] = [`checkpoint: ${dir}, ${MiB(size)} (${(size / 1e9).toFixed(2)} GB)`];
  if (!values['skip-cli']) {
    const peak = await measureCli(dir);
    rows.push(`CLI (WebGPU through Dawn): peak resident memory ${MiB(peak)} = ${(peak / size).toFixed(2)} x the checkpoint`);
  }
  if (!values['skip-page']) {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set DEPASS_CHROMIUM)`);
    const peak = await measurePage(dir);
    rows.push(`page (all of Chromium's processes): peak resident memory ${MiB(peak)} = ${(peak / size).toFixed(2)} x the checkpoint`);
  }
  console.log(rows.join('\n'));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
