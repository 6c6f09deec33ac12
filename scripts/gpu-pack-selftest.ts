// `npm run gpu-pack:selftest [-- RUN.SH OPTIONS]`: builds the GPU pack as a .tar, unpacks it in a
// fresh temporary folder (no node_modules anywhere above it) and runs `bash run.sh OUT --quick`
// there with an empty environment and a PATH holding only the shell tools run.sh uses (no node),
// on this machine's default Vulkan driver; then checks the report it wrote. About a minute on
// lavapipe, so it is not part of npm test (gpu-check/pack.test.ts checks the pack's contents there).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { GpuCheckReport } from '../gpu-check/report';
import { partSizes, writePack } from './gpu-pack';

const TOOLS = [
  'bash',
  'gzip',
  'tar',
  'sed',
  'awk',
  'sort',
  'head',
  'tee',
  'tr',
  'date',
  'mktemp',
  'cp',
  'mv',
  'rm',
  'chmod',
  'uname',
  'getconf',
  'ldconfig',
  'readlink',
  'grep',
  'dirname',
  'mkdir',
  'cat',
];

function which(tool: string): string | null {
  for (const d of ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin']) if (existsSync(join(d, tool))) return join(d, tool);
  return null;
}

function fail(message: string): never {
  console.error(`gpu-pack selftest: FAILED: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const extra = process.argv.slice(2);
  const base = mkdtempSync(join(tmpdir(), 'depass-pack-selftest-'));
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  try {
    // 1. Build and tar.
    const built = join(base, 'build', 'depass-gpu-check');
    const m = await writePack(built, (s) => console.error(s));
    const tar = `${built}.tar`;
    execFileSync('tar', ['-cf', tar, '-C', dirname(built), 'depass-gpu-check']);
    for (const [part, bytes] of partSizes(m)) console.log(`${mib(bytes).padStart(10)}  ${part}`);
    console.log(`${mib(m.totalBytes).padStart(10)}  pack folder; ${mib(statSync(tar).size)} as .tar`);

    // 2. A fresh folder, the tar unpacked there, a PATH without node.
    const fresh = join(base, 'fresh');
    mkdirSync(join(fresh, 'bin'), { recursive: true });
    mkdirSync(join(fresh, 'home'));
    for (let d = fresh; d !== dirname(d); d = dirname(d)) if (existsSync(join(d, 'node_modules'))) fail(`${d}/node_modules exists above the test folder`);
    for (const t of TOOLS) {
      const p = which(t);
      if (p) symlinkSync(p, join(fresh, 'bin', t));
    }
    execFileSync('tar', ['-xf', tar, '-C', fresh]);
    const out = join(fresh, 'out');
    const args = [join(fresh, 'depass-gpu-check/run.sh'), out, '--quick', ...extra];
    console.log(`\nrunning: env -i PATH=${fresh}/bin HOME=${fresh}/home bash ${args.join(' ')}`);
    const t0 = performance.now();
    const r = spawnSync(join(fresh, 'bin/bash'), args, { cwd: fresh, env: { PATH: join(fresh, 'bin'), HOME: join(fresh, 'home') }, stdio: 'inherit' });
    const seconds = (performance.now() - t0) / 1000;
    console.log(`\nrun.sh exited with ${r.status} after ${seconds.toFixed(1)} s`);

    // 3. The report.
    if (!existsSync(join(out, 'report.json'))) fail('no report.json');
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as GpuCheckReport;
    const problems: string[] = [];
    const want = (ok: boolean, what: string) => ok || problems.push(what);
    want(rep.format === 'depass-gpu-check/1', `format ${rep.format}`);
    want(rep.status === 'passed' && r.status === 0, `status ${rep.status}, exit code ${r.status}: ${rep.problems.join('; ')}`);
    want(rep.versions.packed, 'the report says it did not run from a pack');
    want(rep.adapter !== null && rep.adapter.features.length > 0 && Object.keys(rep.adapter.limits).length > 10, 'adapter, features or limits missing');
    for (const s of rep.sections)
      want(s.status === 'passed' || (s.status === 'skipped' && s.message === '--skip'), `section ${s.id}: ${s.status} ${s.message ?? ''}`);
    const count = (id: string) => rep.checks.filter((c) => c.section === id && c.passed && !c.skipped).length;
    want(rep.profile !== undefined && rep.profile.tiles.source === 'calibration', 'no calibrated device profile in the report');
    if (!extra.includes('--skip')) {
      want(
        count('kernels') >= 34 && count('matmul') >= 147 && count('engine') >= 7 && count('cli') === 1,
        `checks passed: ${['kernels', 'matmul', 'engine', 'cli'].map((s) => `${s} ${count(s)}`).join(', ')}`,
      );
      want(rep.timings.length === 6 && rep.timings.every((t) => t.ms > 0 && (t.completeness ?? 0) < 1e-4), 'real-shape timings missing or incomplete');
      want(rep.bench !== null && rep.bench.targets.length > 0, 'no benchmark report');
    }
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    want(summary.includes(`**${rep.status.toUpperCase()}**`), 'summary.md does not state the status');
    if (problems.length) fail(problems.join('\n  '));
    console.log(
      `gpu-pack selftest: passed. The quick check ran in ${seconds.toFixed(1)} s from a fresh folder; report ${Math.round(statSync(join(out, 'report.json')).size / 1024)} KiB, ${rep.checks.length} checks, ${rep.timings.length} timings.`,
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => fail((e as Error).stack ?? String(e)));
