// Runs lint and every test suite (unit and GPU tests under Vitest, the kernels again on SwiftShader, then
// the browser e2e tests under Playwright), prints each suite's passed / failed / skipped counts and
// one closing line "N passed, N failed, N skipped" with the totals. Under CI=true a skip is a
// failure: the run exits non-zero and says which tests did not run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, relative } from 'node:path';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
mkdirSync('test-results', { recursive: true });
const total = { passed: 0, failed: 0, skipped: 0 };
const suites = [];
/** Why the run fails besides failed tests: a runner that crashed, skips under CI. */
const problems = [];
/** Requirements that CI=true turned into failing tests. */
const missing = [];

function run(label, cmd, args, env = {}) {
  console.log(`\n=== ${label} ===`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status;
}

/** Adds one suite's counts; `skippedWhere` lists where its skips are (file or test names). */
function record(label, counts, skippedWhere = []) {
  suites.push({ label, ...counts, skippedWhere });
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
}

/** A Vitest JSON report: skips are pending and todo tests, listed per file. */
function countVitest(label, file, status) {
  if (!existsSync(file)) return void problems.push(`${label}: no report at ${file} (Vitest exited with ${status})`);
  const j = JSON.parse(readFileSync(file, 'utf8'));
  let failed = j.numFailedTests;
  // A file that fails to load has no failed test in it; count the file.
  if (j.numFailedTestSuites > 0 && j.numFailedTests === 0) failed += j.numFailedTestSuites;
  const skippedWhere = [];
  for (const f of j.testResults) {
    const file = relative(process.cwd(), f.name);
    const n = f.assertionResults.filter((a) => a.status === 'pending' || a.status === 'skipped' || a.status === 'todo').length;
    if (n > 0) skippedWhere.push(`${file}: ${n} skipped`);
    // Under CI=true, src/testing/requirements.ts turns each missing requirement into a failing
    // "needs …" test: name it here too.
    for (const a of f.assertionResults) if (a.status === 'failed' && a.title.startsWith('needs ')) missing.push(`${file}: ${a.title}`);
  }
  record(label, { passed: j.numPassedTests, failed, skipped: j.numPendingTests + j.numTodoTests }, skippedWhere);
  if (status !== 0 && failed === 0) problems.push(`${label}: Vitest exited with ${status} and no failed test`);
}

/** Tests of a Playwright JSON report, with their annotations (skip reasons, CPU fallback). */
function playwrightTests(suite, out = []) {
  for (const s of suite.suites ?? []) playwrightTests(s, out);
  for (const spec of suite.specs ?? []) for (const t of spec.tests) out.push({ title: `${spec.file} › ${spec.title}`, test: t });
  return out;
}

function countPlaywright(label, file, status) {
  if (!existsSync(file)) return void problems.push(`${label}: no report at ${file} (Playwright exited with ${status})`);
  const j = JSON.parse(readFileSync(file, 'utf8'));
  const skippedWhere = [];
  for (const { title, test } of j.suites.flatMap((s) => playwrightTests(s))) {
    const why = test.annotations.filter((a) => a.type === 'skip' || a.type === 'cpu-fallback').map((a) => a.description);
    if (test.status === 'skipped') skippedWhere.push(`${title}: ${why.join('; ') || 'skipped'}`);
    else if (test.annotations.some((a) => a.type === 'cpu-fallback')) console.warn(`*** ran on the CPU fallback, not WebGPU: ${title}: ${why.join('; ')}`);
  }
  const failed = j.stats.unexpected + (j.errors?.length ?? 0);
  record(label, { passed: j.stats.expected + j.stats.flaky, failed, skipped: j.stats.skipped }, skippedWhere);
  if (status !== 0 && failed === 0) problems.push(`${label}: Playwright exited with ${status} and no failed test`);
}

// Optional: which suite ("lint", "unit", "swiftshader" or "e2e"); for "unit", file filters may follow.
const [only, ...filters] = process.argv.slice(2);

if (!only || only === 'lint') {
  // Lint, formatting and dead exports, as one check that passes or fails.
  const status = run('lint (eslint, prettier, knip)', 'npm', ['run', '--silent', 'lint']);
  record('lint', { passed: status === 0 ? 1 : 0, failed: status === 0 ? 0 : 1, skipped: 0 });
}

if (!only || only === 'unit') {
  const out = 'test-results/vitest.json';
  rmSync(out, { force: true });
  const status = run('unit and GPU tests (vitest)', 'npx', ['vitest', 'run', ...filters, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`]);
  countVitest('unit and GPU tests', out, status);
}

// The kernels again on SwiftShader (no shader-f16, subgroup size 4): the second software driver
// covers the paths the first one does not take. Without its driver the pass is a skip, counted
// as its tests (one when their number is unknown) and a failure under CI=true. Debian's chromium
// package ships the driver; DEPASS_SWIFTSHADER_ICD names another ICD file.
const swiftshader = process.env.DEPASS_SWIFTSHADER_ICD ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
const kernelFiles = ['src/gpu/kernels.test.ts', 'src/gpu/matmul.test.ts'];
if (!only || only === 'swiftshader') {
  const label = 'GPU kernels on SwiftShader';
  if (existsSync(swiftshader)) {
    const out = 'test-results/vitest-swiftshader.json';
    rmSync(out, { force: true });
    const status = run(`${label} (vitest)`, 'npx', ['vitest', 'run', ...kernelFiles, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`], {
      VK_ICD_FILENAMES: swiftshader,
      LD_LIBRARY_PATH: dirname(swiftshader),
    });
    countVitest(label, out, status);
  } else {
    console.log(`\n=== ${label} ===\n*** SKIPPED: the SwiftShader driver ${swiftshader} is absent (under CI=true this fails) ***`);
    let n = 1;
    const unit = 'test-results/vitest.json';
    if (!only && existsSync(unit)) {
      const files = JSON.parse(readFileSync(unit, 'utf8')).testResults.filter((f) => kernelFiles.includes(relative(process.cwd(), f.name)));
      n = Math.max(
        1,
        files.reduce((s, f) => s + f.assertionResults.length, 0),
      );
    }
    record(label, { passed: 0, failed: 0, skipped: n }, [`the whole pass: ${swiftshader} is absent`]);
  }
}

if (!only || only === 'e2e') {
  const out = 'test-results/playwright.json';
  rmSync(out, { force: true });
  const status = run('browser tests (playwright, headless Chromium)', 'npx', ['playwright', 'test', '-c', 'e2e/playwright.config.ts'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: out,
  });
  countPlaywright('browser tests', out, status);
}

console.log('\n=== summary ===');
for (const s of suites) {
  console.log(`${s.label}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
  for (const w of s.skippedWhere) console.log(`  skipped: ${w}`);
}
for (const m of missing) console.log(`missing: ${m}`);
if (inCI && total.skipped > 0)
  problems.push(`CI=true and ${total.skipped} skipped: under CI a skip is a failure (what was missing is named above and in the runners' output)`);
for (const p of problems) console.log(`FAILED: ${p}`);
console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 || problems.length > 0 ? 1 : 0);
