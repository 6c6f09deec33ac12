// Runs every test suite (unit and GPU tests under Vitest, then the browser e2e tests under
// Playwright) and prints one closing line "N passed, N failed" with the totals, which CI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

mkdirSync('test-results', { recursive: true });
let passed = 0;
let failed = 0;
let runnerFailed = false;

function run(label, cmd, args, env = {}) {
  console.log(`\n=== ${label} ===`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) runnerFailed = true;
  return r.status;
}

function countVitest(file) {
  if (!existsSync(file)) return void (runnerFailed = true);
  const j = JSON.parse(readFileSync(file, 'utf8'));
  passed += j.numPassedTests;
  failed += j.numFailedTests;
  if (j.numFailedTestSuites > 0 && j.numFailedTests === 0) failed += j.numFailedTestSuites;
}

function countPlaywright(file) {
  if (!existsSync(file)) return void (runnerFailed = true);
  const j = JSON.parse(readFileSync(file, 'utf8'));
  passed += j.stats.expected + j.stats.flaky;
  failed += j.stats.unexpected;
}

const only = process.argv[2]; // optional: "unit", "swiftshader" or "e2e"

if (!only || only === 'unit') {
  run('unit and GPU tests (vitest)', 'npx', [
    'vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json',
  ]);
  countVitest('test-results/vitest.json');
}

// The kernels again on SwiftShader (no shader-f16, subgroup size 4): the second software driver
// covers the paths the first one does not take.
const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
if ((!only || only === 'swiftshader') && existsSync(swiftshader)) {
  run('GPU kernels on SwiftShader (vitest)', 'npx', [
    'vitest', 'run', 'src/gpu/kernels.test.ts', 'src/gpu/matmul.test.ts',
    '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest-swiftshader.json',
  ], { VK_ICD_FILENAMES: swiftshader, LD_LIBRARY_PATH: '/usr/lib/chromium' });
  countVitest('test-results/vitest-swiftshader.json');
}

if ((!only || only === 'e2e') && existsSync('e2e/playwright.config.ts')) {
  run('browser tests (playwright, headless Chromium)', 'npx', ['playwright', 'test', '-c', 'e2e/playwright.config.ts'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: 'test-results/playwright.json',
  });
  countPlaywright('test-results/playwright.json');
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || runnerFailed ? 1 : 0);
