// Browser tests of the built app in headless Chromium (Debian's, not a downloaded one), with
// WebGPU enabled on whatever adapter exists (SwiftShader here). The app is built once and served
// by `vite preview`; every test runs at a desktop size with a fresh profile.

import { defineConfig } from '@playwright/test';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const port = Number(process.env.DEPASS_E2E_PORT ?? 4173);
const dist = 'test-results/e2e-dist';
/** The development server (what `npm start` runs), checked by dev-server.spec.ts. */
export const devPort = Number(process.env.DEPASS_E2E_DEV_PORT ?? 5174);
/**
 * The stand-in Hugging Face Hub (e2e/mock-hub.ts, started by hub.spec.ts) and its CDN host. The
 * app under test is built against it: DEPASS_HUB_URL and DEPASS_HUB_HOSTS exist for test builds
 * only, and a normal build talks to huggingface.co with the production policy.
 */
export const hubPort = Number(process.env.DEPASS_E2E_HUB_PORT ?? port + 100);
export const cdnPort = hubPort + 1;

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: resolve(root, 'test-results/e2e'),
  // The software GPU and two shared cores are slow; one test at a time, generous timeouts.
  workers: 1,
  fullyParallel: false,
  timeout: 240_000,
  expect: { timeout: 60_000 },
  retries: 0,
  // scripts/test-all.mjs reads the JSON report from PLAYWRIGHT_JSON_OUTPUT_NAME, meant relative to
  // the working directory (Playwright would resolve it against this folder); without it, the
  // report goes to test-results/playwright.json rather than stdout.
  reporter: [
    ['list'],
    ['json', { outputFile: resolve(process.cwd(), process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ?? resolve(root, 'test-results/playwright.json')) }],
  ],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1440, height: 900 },
    acceptDownloads: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.DEPASS_CHROMIUM ?? '/usr/bin/chromium',
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
    },
  },
  webServer: [
    {
      // Built without the type-check step (tsc runs separately) into a folder of its own, so a
      // concurrent `npm run build` cannot swap files under the server; never reuses a server it
      // did not start, which could be serving an older build.
      command: `npx vite build --logLevel warn --outDir ${dist} --emptyOutDir && npx vite preview --outDir ${dist} --port ${port} --strictPort --host 127.0.0.1`,
      cwd: root,
      env: { DEPASS_HUB_URL: `http://127.0.0.1:${hubPort}`, DEPASS_HUB_HOSTS: `http://127.0.0.1:${cdnPort}` },
      url: `http://127.0.0.1:${port}/`,
      reuseExistingServer: false,
      timeout: 180_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      // The development server, exactly as `npm start` serves the app (its own CSP variant).
      command: `npx vite --port ${devPort} --strictPort --host 127.0.0.1`,
      cwd: root,
      url: `http://127.0.0.1:${devPort}/`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
