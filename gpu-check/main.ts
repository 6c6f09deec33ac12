// The self-contained GPU check: on one WebGPU adapter, every kernel against its TypeScript twin,
// the engine and the `depass` command against the CPU reference, timings on random weights of
// real models' shapes, and the benchmark; one JSON report and a Markdown summary in OUTDIR,
// rewritten after each section. Bundled into the GPU pack by scripts/gpu-pack.ts and started by
// the pack's run.sh; from the sources: node bin/run-ts.mjs gpu-check/main.ts OUTDIR [--quick].

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBench } from '../bench/bench';
import { formatReport } from '../bench/report';
import { parseArgs as benchArgs } from '../bench/config';
import { createDevice, type GpuContext } from '../src/gpu/device';
import { kernelCache } from '../src/gpu/kernels';
import { describeProfile } from '../src/gpu/profile';
import { deviceProfile } from '../src/gpu/tuning';
import { StepPool } from '../src/gpu/step';
import { createNodeGpu, nodeShaderLoader } from '../src/gpu/node';
import type { DType } from '../src/model/description';
import { checkCli } from './cli-check';
import { ENGINE_CHECKS } from './engine-checks';
import { adapterReport, machineInfo, vulkanInfo } from './environment';
import { KERNEL_CHECKS } from '../src/gpu/testing/kernel-checks';
import { MATMUL_CHECKS } from '../src/gpu/testing/matmul-checks';
import { timeShapes, shapeRuns } from './real-shapes';
import { REPORT_FORMAT, writeReport, type CheckResult, type GpuCheckReport, type SectionResult } from './report';
import { Tally } from '../src/gpu/testing/tally';
import { packInfo } from './versions';

const SECTIONS = {
  kernels: 'kernels against their twins',
  matmul: 'matmul against its twin',
  engine: 'engine against the reference',
  cli: 'the depass command, webgpu against cpu',
  shapes: 'real-shape timings',
  bench: 'benchmark',
} as const;
type SectionId = keyof typeof SECTIONS;

const USAGE = `usage: run.sh OUTDIR [--quick] [options]   (from the sources: node bin/run-ts.mjs gpu-check/main.ts OUTDIR ...)
  --quick            small sizes: a smoke run of every part (minutes on a CPU-only machine)
  --skip LIST        sections to leave out: ${Object.keys(SECTIONS).join(',')}
  --dtype D          weights of the real-shape timings: BF16 (default, as the models are published), F16, F32
  --reps N           warm runs per real-shape timing (default 3, quick 1)
  --deadline-s S     start no new section after S seconds (default 300 full, none quick)
  --limit-s S        stop after S seconds, writing the report (default 450 full, none quick)
Writes OUTDIR/report.json, OUTDIR/summary.md and OUTDIR/bench.txt; exit code 0 when every check passed.`;

class UsageError extends Error {}

function options(argv: string[]) {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        quick: { type: 'boolean', default: false },
        skip: { type: 'string', default: '' },
        dtype: { type: 'string', default: 'BF16' },
        reps: { type: 'string' },
        'deadline-s': { type: 'string' },
        'limit-s': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  if (values.help) return null;
  if (positionals.length !== 1)
    throw new UsageError(positionals.length ? `one output folder expected, got ${positionals.join(' ')}` : 'the output folder is missing');
  const skip = new Set(values.skip.split(',').filter((s) => s));
  for (const s of skip) if (!(s in SECTIONS)) throw new UsageError(`--skip: unknown section '${s}' (${Object.keys(SECTIONS).join(', ')})`);
  if (!['BF16', 'F16', 'F32'].includes(values.dtype)) throw new UsageError(`--dtype must be BF16, F16 or F32, got '${values.dtype}'`);
  const num = (name: string, v: string | undefined, d: number) => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} wants a whole number, got '${v}'`);
    return n;
  };
  const size: 'quick' | 'full' = values.quick ? 'quick' : 'full';
  return {
    out: resolve(positionals[0]!),
    size,
    skip: skip as Set<SectionId>,
    dtype: values.dtype as DType,
    reps: Math.max(1, num('reps', values.reps, size === 'quick' ? 1 : 3)),
    deadlineS: num('deadline-s', values['deadline-s'], size === 'quick' ? Infinity : 300),
    limitS: num('limit-s', values['limit-s'], size === 'quick' ? Infinity : 450),
  };
}

const oneLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 500);

async function main(argv: string[]): Promise<number> {
  const opts = options(argv);
  if (!opts) {
    console.log(USAGE);
    return 0;
  }
  const root = fileURLToPath(new URL('../', import.meta.url));
  const versions = packInfo(root);
  const started = Date.now();
  const log = (s: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);
  const report: GpuCheckReport = {
    format: REPORT_FORMAT,
    size: opts.size,
    status: 'running',
    started: new Date(started).toISOString(),
    finished: null,
    elapsedSeconds: 0,
    versions: { ...versions, runtimeNode: process.version },
    machine: machineInfo(),
    vulkan: vulkanInfo(),
    adapter: null,
    sections: [],
    checks: [],
    timings: [],
    bench: null,
    problems: [],
  };
  const save = () => {
    report.elapsedSeconds = (Date.now() - started) / 1000;
    writeReport(opts.out, report);
  };
  const finish = (ok: boolean) => {
    report.status = ok ? 'passed' : 'failed';
    report.finished = new Date().toISOString();
    save();
    log(`${report.status}: ${opts.out}/report.json and summary.md`);
    return ok ? 0 : 1;
  };
  log(`DePass Studio GPU check (${opts.size}), depass-studio ${versions.project} ${versions.commit}, Node ${process.version}; report in ${opts.out}`);
  save();
  // The whole check must end in bounded time (8 minutes on a GPU): past the limit, the report is
  // written with the running section marked, and the process ends. A synchronous stretch (building
  // a model's weights) can delay this by some seconds, hence the margin in the default.
  let current: { s: SectionResult; t0: number } | null = null;
  if (Number.isFinite(opts.limitS)) {
    setTimeout(() => {
      const why = `stopped at the ${opts.limitS} s time limit`;
      if (current) Object.assign(current.s, { status: 'error', message: why, seconds: (Date.now() - current.t0) / 1000 });
      report.problems.push(`${why}${current ? ` during ${current.s.title}` : ''}`);
      process.exit(finish(false));
    }, opts.limitS * 1000).unref();
  }

  // The adapter: Dawn must load, and Vulkan must offer a device.
  let gpu: GPU;
  try {
    gpu = createNodeGpu();
  } catch (e) {
    report.problems.push(`Dawn (the npm package webgpu's dawn.node) could not start: ${oneLine(e)}`);
    return finish(false);
  }
  const adapter = await adapterReport(gpu);
  if (!adapter) {
    report.problems.push('no WebGPU adapter: Dawn found no usable Vulkan device (see the Vulkan notes above: loader, ICD, driver)');
    return finish(false);
  }
  let ctx: GpuContext;
  try {
    ctx = await createDevice(gpu, { timestamps: true });
  } catch (e) {
    report.problems.push(`the WebGPU device could not be created: ${oneLine(e)}`);
    return finish(false);
  }
  report.adapter = { ...adapter, deviceFeatures: [...ctx.device.features].map(String).sort() };
  log(
    `adapter: ${[adapter.vendor, adapter.architecture, adapter.device].filter(Boolean).join(' ')} | ${adapter.description}${adapter.isFallbackAdapter ? ' (software adapter)' : ''}`,
  );
  if (adapter.isFallbackAdapter && report.machine.nvidiaDriver) {
    report.problems.push(
      `the adapter is a software one although NVIDIA driver ${report.machine.nvidiaDriver} is loaded: Vulkan did not reach the NVIDIA ICD (see the Vulkan notes)`,
    );
  }
  let lost: string | null = null;
  void ctx.device.lost.then((info) => {
    lost = `${info.reason}: ${info.message}`;
    if (info.reason !== 'destroyed') report.problems.push(`device lost (${lost})`);
  });
  const loader = nodeShaderLoader();

  const section = async (id: SectionId, fn: (s: SectionResult) => Promise<string | void>) => {
    const s: SectionResult = { id, title: SECTIONS[id], status: 'running', seconds: 0 };
    report.sections.push(s);
    if (opts.skip.has(id)) {
      Object.assign(s, { status: 'skipped', message: '--skip' });
      return;
    }
    if ((Date.now() - started) / 1000 > opts.deadlineS) {
      Object.assign(s, { status: 'skipped', message: `not started: past the ${opts.deadlineS} s deadline` });
      report.problems.push(`${s.title}: not run, past the deadline`);
      return;
    }
    if (lost) {
      Object.assign(s, { status: 'skipped', message: 'the device was lost' });
      return;
    }
    log(`${s.title}...`);
    save();
    const t0 = Date.now();
    current = { s, t0 };
    try {
      const note = await fn(s);
      s.status = report.checks.some((c) => c.section === id && !c.passed) ? 'failed' : 'passed';
      if (note) s.message = note;
    } catch (e) {
      s.status = 'error';
      s.message = oneLine(e);
      report.problems.push(`${s.title}: ${s.message}`);
      log(`  error: ${(e as Error).stack ?? s.message}`);
    }
    s.seconds = (Date.now() - t0) / 1000;
    current = null;
    log(`  ${s.status} in ${s.seconds.toFixed(1)} s${s.message ? `: ${s.message}` : ''}`);
    save();
  };

  const runChecks = async (id: SectionId, list: { name: string; unsupported?: string | null; run: (t: Tally) => Promise<void> }[]) => {
    let failed = 0;
    let skipped = 0;
    for (const c of list) {
      const t = new Tally();
      const t0 = performance.now();
      const r: CheckResult = { section: id, name: c.name, passed: true, ms: 0, comparisons: 0, worstRatio: 0 };
      if (c.unsupported) {
        r.skipped = c.unsupported;
        skipped++;
        report.checks.push(r);
        continue;
      }
      try {
        await c.run(t);
      } catch (e) {
        r.passed = false;
        r.error = oneLine(e);
        failed++;
        log(`  FAILED ${c.name}: ${r.error}`);
      }
      Object.assign(r, { ms: performance.now() - t0, comparisons: t.comparisons, worstRatio: t.worstRatio });
      report.checks.push(r);
    }
    return `${list.length - failed - skipped} of ${list.length - skipped} passed${skipped ? `, ${skipped} unsupported by this device` : ''}`;
  };

  // What the engine uses on this device, chosen once (the tile calibration takes a few seconds).
  const profile = await deviceProfile(ctx, loader, { calibrate: true });
  report.profile = profile;
  log(`profile: ${describeProfile(profile)}`);
  save();
  const kernels = kernelCache(ctx.device, loader);
  const testGpu = { ctx, kernels, pool: new StepPool(ctx.device, kernels), profile };
  await section('kernels', () => {
    log(
      '  (WGSL compile errors are printed below on purpose: two checks, run with each reduction prelude, feed broken shaders and expect the errors to name them)',
    );
    return runChecks(
      'kernels',
      KERNEL_CHECKS.map((c) => ({ name: c.name, unsupported: c.unsupported?.(testGpu), run: (t) => c.run(testGpu, t) })),
    );
  });
  await section('matmul', () =>
    runChecks(
      'matmul',
      MATMUL_CHECKS.map((c) => ({ name: c.name, unsupported: c.unsupported?.(testGpu), run: (t) => c.run(testGpu, t) })),
    ),
  );
  await section('engine', () =>
    runChecks(
      'engine',
      ENGINE_CHECKS.map((c) => ({ name: c.name, run: (t) => c.run(ctx, loader, t) })),
    ),
  );
  await section('cli', () => {
    const cli = [process.execPath, versions.packed ? `${root}app/cli.mjs` : `${root}bin/depass.mjs`];
    return runChecks('cli', [{ name: 'random llama2.c model, token,head,neuron,module', run: (t) => checkCli(cli, t) }]);
  });
  await section('shapes', async () => {
    await timeShapes(ctx, loader, shapeRuns(opts.size, opts.dtype), opts.reps, log, (r) => {
      report.timings.push(r);
      save();
    });
    const missed = report.timings.filter((t) => t.goal && !t.goal.met);
    return missed.length ? `goals not met: ${missed.map((t) => t.name).join(', ')}` : undefined;
  });
  await section('bench', async () => {
    const cfg = benchArgs([opts.size === 'full' ? '--full' : '--quick', '--no-chromium']);
    if (cfg === 'help') throw new Error('unreachable');
    const { report: b } = await runBench(ctx, loader, cfg, (s) => log(`  ${s}`));
    // The pack has no node_modules for the benchmark to read versions from.
    b.machine.dawn = `webgpu ${versions.webgpu}`;
    b.machine.tfjs = versions.tfjs;
    report.bench = b;
    writeFileSync(`${opts.out}/bench.txt`, formatReport(b) + '\n');
    return `${b.targets.filter((t) => t.met).length} of ${b.targets.length} targets met`;
  });

  const ok = report.problems.length === 0 && report.sections.every((s) => s.status === 'passed' || s.status === 'skipped');
  const code = finish(ok);
  ctx.device.destroy();
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`gpu-check: ${e.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`gpu-check: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
