// Runs the kernel part of the benchmark in headless Chromium (Debian's; WebGPU on whatever adapter
// it finds, SwiftShader on a machine without a GPU): builds bench/browser/index.html with Vite into
// a temporary folder, serves it on a local port, opens it with playwright-core and calls
// window.benchKernels. Node only; the page itself is page.ts.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KernelShape } from '../kernel';
import type { TfLayout } from '../tfjs';
import type { PageKernelResult } from './page';

export const CHROMIUM = process.env.DEPASS_CHROMIUM ?? '/usr/bin/chromium';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^([/\\])+/, '');
    const file = join(dir, path || 'bench/browser/index.html');
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/bench/browser/index.html` })),
  );
}

/** Runs part 1 in the page on `shapes`, or on `fallbackShapes` when the page's adapter is a software one. */
export async function chromiumKernels(
  shapes: KernelShape[],
  fallbackShapes: KernelShape[],
  opts: { reps: number; minSampleMs: number; tfPrograms: number[]; tfLayouts: TfLayout[]; log: (s: string) => void; timeoutMs?: number },
): Promise<PageKernelResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set DEPASS_CHROMIUM)`);
  const out = mkdtempSync(join(tmpdir(), 'depass-bench-page-'));
  const { build } = await import('vite');
  const { chromium } = await import('playwright-core');
  let server: Server | null = null;
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
  try {
    opts.log('  building the page');
    await build({
      root: ROOT,
      configFile: false,
      logLevel: 'warn',
      build: { outDir: out, emptyOutDir: true, rollupOptions: { input: join(ROOT, 'bench/browser/index.html') } },
    });
    const s = await serve(out);
    server = s.server;
    const page = await browser.newPage();
    page.setDefaultTimeout(opts.timeoutMs ?? 600_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(s.url);
    await page.waitForFunction(() => document.title === 'ready' || document.title === 'error');
    const result = await page.evaluate(
      ([shapes, fallback, o]) =>
        (window as unknown as { benchKernels: (s: KernelShape[], f: KernelShape[], o: object) => Promise<PageKernelResult> }).benchKernels(shapes, fallback, o),
      [shapes, fallbackShapes, { reps: opts.reps, minSampleMs: opts.minSampleMs, tfPrograms: opts.tfPrograms, tfLayouts: opts.tfLayouts }] as const,
    );
    if (errors.length) opts.log(`  page errors: ${errors.join('; ')}`);
    for (const line of result.log) opts.log(line);
    return result;
  } finally {
    await browser.close();
    server?.close();
    rmSync(out, { recursive: true, force: true });
  }
}
