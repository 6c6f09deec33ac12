// The benchmark as a function: runs the four parts on a WebGPU context and returns the report
// (what bench/reports/*.json holds) and its printed form. main.ts is the command line around it;
// a test may call runBench with parseArgs(['--quick']).

import os from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { adapterName, type GpuContext } from '../src/gpu/device';
import type { ShaderLoader } from '../src/gpu/kernels';
import type { KernelTime } from '../src/gpu/profiler';
import { devicePool } from '../src/gpu/tuning';
import { createNodeGpu } from '../src/gpu/node';
import { randomModel, type RandomModelOptions } from '../src/model/testing/random-model';
import { MODELS, type BenchConfig } from './config';
import { benchKernels, oursOn, type KernelRow } from './kernel';
import { benchNeurons, type NeuronResult } from './neurons';
import { benchPipeline, type PipelineResult } from './pipeline';
import { loadTfMatmul, type TfMatmul } from './tfjs';
import { chromiumKernels } from './browser/chromium';
import type { PageKernelResult } from './browser/page';

export interface Target {
  name: string;
  value: number;
  target: number;
  met: boolean;
}

export interface BenchReport {
  date: string;
  mode: BenchConfig['mode'];
  config: BenchConfig;
  machine: { os: string; cpus: string; memoryGiB: number; node: string; dawn: string; tfjs: string };
  adapter: {
    name: string;
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter: boolean;
    driver: string;
    shaderF16: boolean;
  };
  kernel: { rows: KernelRow[]; bestGflops: number; best: { R: number; N: number; K: number } };
  /** Part 1 again in headless Chromium, or why it did not run. */
  chromium: (Omit<PageKernelResult, 'log'> & { seconds: number }) | { skipped: string } | null;
  pipeline: PipelineResult & {
    model: string;
    layers: number;
    modelLayers: number;
    /**
     * FLOPs / (time x part 1's best rate); against the reference kernel timed alongside; and the
     * same by process CPU time (the work itself on a software adapter).
     */
    efficiency: Record<'forward' | 'token' | 'head', { part1: number; alongside: number; cpu: number }>;
  };
  neurons: NeuronResult & {
    speedupSingle: number;
    speedupBatched: number;
    flopRatioBatched: number;
    shareOfFlopAdvantage: number;
    /** The same ratios by process CPU time. */
    cpu: { speedupSingle: number; speedupBatched: number; shareOfFlopAdvantage: number };
  };
  tokenSaving: { time: number; flops: number };
  targets: Target[];
  elapsedSeconds: number;
}

function packageVersion(name: string): string {
  try {
    const p = fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url));
    return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function runBench(
  ctx: GpuContext,
  loader: ShaderLoader,
  cfg: BenchConfig,
  log: (s: string) => void = () => {},
): Promise<{ report: BenchReport; text: string }> {
  const started = performance.now();
  const pool = await devicePool(ctx, loader); // as GpuBackend makes it: calibrated once per device
  const adapter = adapterName(ctx.adapter);
  const driver = process.env.VK_ICD_FILENAMES ? `Vulkan ICD ${process.env.VK_ICD_FILENAMES}` : 'default Vulkan driver';
  const machine = {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    dawn: `webgpu ${packageVersion('webgpu')}`,
    tfjs: packageVersion('@tensorflow/tfjs-backend-webgpu'),
  };
  log(`bench (${cfg.mode}) on ${adapter}; ${ctx.adapter.description}; ${driver}; ${machine.cpus}`);

  // 1. Kernel.
  log('kernel: our matmul vs TF.js tf.matMul(a, b, false, true), f32');
  let tf: TfMatmul | null = null;
  if (cfg.tf) {
    try {
      tf = await loadTfMatmul(createNodeGpu());
    } catch (e) {
      log(`  TF.js WebGPU unavailable: ${(e as Error).message}`);
    }
  }
  const kernels = await benchKernels(pool, tf, cfg.kernelShapes, {
    reps: cfg.kernelReps,
    minSampleMs: cfg.minSampleMs,
    tfPrograms: cfg.tfPrograms,
    tfLayouts: cfg.tfLayouts,
    log,
  });
  let bestRow = kernels[0]!;
  let bestGflops = 0;
  for (const k of kernels) {
    for (const g of [k.ours.gflops, k.tf?.gflops ?? 0]) {
      if (g > bestGflops) {
        bestGflops = g;
        bestRow = k;
      }
    }
  }

  let chromium: BenchReport['chromium'] = null;
  if (cfg.chromium) {
    log('kernel in headless Chromium');
    try {
      const t0 = performance.now();
      const r = await chromiumKernels(cfg.chromiumShapes, cfg.chromiumFallbackShapes, {
        reps: cfg.kernelReps,
        minSampleMs: cfg.minSampleMs,
        tfPrograms: cfg.tfPrograms,
        tfLayouts: cfg.tfLayouts,
        log,
      });
      chromium = { adapter: r.adapter, description: r.description, userAgent: r.userAgent, rows: r.rows, seconds: (performance.now() - t0) / 1000 };
    } catch (e) {
      chromium = { skipped: (e as Error).message.split('\n')[0]! };
      log(`  skipped: ${chromium.skipped}`);
    }
  }

  // 2 and 4. Pipeline, with part 1's best shape re-timed alongside.
  const spec = MODELS[cfg.model]!;
  const modelOpts: RandomModelOptions = {
    ...spec,
    num_hidden_layers: cfg.layers,
    max_position_embeddings: 4096,
    dtype: 'F32',
    seed: 1,
    name: `random ${cfg.model}`,
  };
  log(`model: random ${cfg.model} shape, ${cfg.layers} of ${spec.num_hidden_layers} layers, f32 (building weights)`);
  const model = randomModel(modelOpts);
  log(`pipeline: T = ${cfg.pipelineT}`);
  const ref = oursOn(pool, bestRow);
  let pipe: PipelineResult;
  try {
    pipe = await benchPipeline(ctx, model, loader, ref, { T: cfg.pipelineT, reps: cfg.reps, profile: cfg.profile, log });
  } finally {
    ref.dispose();
  }

  // 3. Neurons.
  log(`neurons: layer ${cfg.neuronLayer}, T = ${cfg.neuronT}`);
  const neurons = await benchNeurons(ctx, model, loader, {
    T: cfg.neuronT,
    layer: cfg.neuronLayer,
    sample: cfg.sample,
    reps: cfg.neuronReps,
    ablationBudget: cfg.ablationBudget,
    profile: cfg.profile,
    log,
  });

  const eff = (e: { flops: number; ms: number; cpuMs: number }) => ({
    part1: e.flops / (e.ms * 1e6 * bestGflops),
    alongside: e.flops / (e.ms * 1e6 * pipe.reference.gflops),
    cpu: e.flops / (e.cpuMs * 1e6 * pipe.reference.cpuGflops),
  });
  const efficiency = { forward: eff(pipe.forward), token: eff(pipe.token), head: eff(pipe.head) };
  const speedupSingle = neurons.single.ms / neurons.depass.ms;
  const speedupBatched = neurons.batched.ms / neurons.depass.ms;
  const flopRatioBatched = neurons.batched.flops / neurons.depass.flops;
  const cpuRatios = {
    speedupSingle: neurons.single.cpuMs / neurons.depass.cpuMs,
    speedupBatched: neurons.batched.cpuMs / neurons.depass.cpuMs,
    shareOfFlopAdvantage: neurons.batched.cpuMs / neurons.depass.cpuMs / flopRatioBatched,
  };
  const software = ctx.adapter.isFallbackAdapter;
  const tokenSaving = {
    time: pipe.token.ms / (pipe.token.components * pipe.forward.ms),
    flops: pipe.token.flops / (pipe.token.components * pipe.forward.flops),
  };
  const ratios = kernels.filter((k) => k.ratio !== null).map((k) => k.ratio!);
  const targets: Target[] = [
    { name: 'kernel: TF.js time / ours, worst shape', value: ratios.length ? Math.min(...ratios) : NaN, target: 1.0 },
    ...(chromium && 'rows' in chromium
      ? [{ name: 'kernel in Chromium: TF.js time / ours, worst shape', value: Math.min(...chromium.rows.map((k) => k.ratio ?? NaN)), target: 1.0 }]
      : []),
    { name: 'pipeline efficiency, forward', value: efficiency.forward.part1, target: 0.6 },
    { name: 'pipeline efficiency, token mode', value: efficiency.token.part1, target: 0.6 },
    { name: 'pipeline efficiency, head map', value: efficiency.head.part1, target: 0.6 },
    { name: 'neurons: DePass speed-up over one-at-a-time ablation', value: speedupSingle, target: 50 },
    { name: 'neurons: share of its FLOP advantage over batched ablation', value: speedupBatched / flopRatioBatched, target: 0.8 },
    ...(software
      ? [
          { name: 'kernel: TF.js / ours by CPU time, worst shape', value: Math.min(...kernels.map((k) => k.cpuRatio ?? NaN)), target: 1.0 },
          { name: 'pipeline efficiency, forward (CPU time)', value: efficiency.forward.cpu, target: 0.6 },
          { name: 'pipeline efficiency, token mode (CPU time)', value: efficiency.token.cpu, target: 0.6 },
          { name: 'pipeline efficiency, head map (CPU time)', value: efficiency.head.cpu, target: 0.6 },
          { name: 'neurons: speed-up over one-at-a-time (CPU time)', value: cpuRatios.speedupSingle, target: 50 },
          { name: 'neurons: share of FLOP advantage over batched (CPU time)', value: cpuRatios.shareOfFlopAdvantage, target: 0.8 },
        ]
      : []),
  ].map((t) => ({ ...t, met: t.value >= t.target }));

  const report: BenchReport = {
    date: new Date().toISOString(),
    mode: cfg.mode,
    config: cfg,
    machine,
    adapter: { name: adapter, ...ctx.adapter, driver, shaderF16: ctx.hasF16 },
    kernel: { rows: kernels, bestGflops, best: { R: bestRow.R, N: bestRow.N, K: bestRow.K } },
    chromium,
    pipeline: { ...pipe, model: cfg.model, layers: cfg.layers, modelLayers: spec.num_hidden_layers!, efficiency },
    neurons: { ...neurons, speedupSingle, speedupBatched, flopRatioBatched, shareOfFlopAdvantage: speedupBatched / flopRatioBatched, cpu: cpuRatios },
    tokenSaving,
    targets,
    elapsedSeconds: (performance.now() - started) / 1000,
  };
  return { report, text: formatReport(report) };
}

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(cells[0]!), w.map((n) => '-'.repeat(n)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const gf = (flops: number) => f(flops / 1e9, flops < 1e10 ? 2 : 1);

function profileTable(title: string, k: KernelTime[] | undefined, check?: number): string {
  if (!k) return '';
  const total = k.reduce((s, r) => s + r.ms, 0);
  const checked = check === undefined ? '' : `; matmul FLOPs dispatched / counted here: ${f(check, 4)}`;
  return (
    `\n${title}: GPU time per kernel in one profiled run (timestamps serialise kernels)${checked}\n` +
    table(
      ['kernel', 'dispatches', 'ms', 'share', 'GFLOP/s'],
      k.map((r) => [r.kernel, r.dispatches, f(r.ms, 1), `${f((100 * r.ms) / total, 1)}%`, r.flops ? f(r.flops / r.ms / 1e6) : '']),
    )
  );
}

function kernelTable(rows: KernelRow[], cpu: boolean): string {
  return table(
    ['R x N x K', 'ours', 'tiles', 'TF.js b^T', 'TF.js best', 'TF.js best variant', 'ours speed-up', ...(cpu ? ['by CPU time'] : [])],
    rows.map((k) => [
      `${k.R} x ${k.N} x ${k.K}`,
      f(k.ours.gflops),
      k.ours.tiles,
      k.tf?.transposedGflops ? f(k.tf.transposedGflops) : '-',
      k.tf ? f(k.tf.gflops) : '-',
      k.tf ? k.tf.variant.replace('auto', `auto=${k.tf.auto}`) : '-',
      k.ratio ? f(k.ratio) : '-',
      ...(cpu ? [k.cpuRatio ? f(k.cpuRatio) : '-'] : []),
    ]),
  );
}

export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  const p = r.pipeline;
  const n = r.neurons;
  const cfg = r.config;
  out.push(`\nDePass Studio benchmark (${r.mode}), ${r.date}`);
  out.push(`adapter: ${r.adapter.name} | ${r.adapter.description} | ${r.adapter.driver}`);
  out.push(`machine: ${r.machine.os}, ${r.machine.cpus}, ${r.machine.memoryGiB} GiB, node ${r.machine.node}, ${r.machine.dawn}, TF.js ${r.machine.tfjs}`);

  out.push(`\n1. Kernel: Y[R, N] = X[R, K] W[N, K]^T, f32; GFLOP/s of the median of ${cfg.kernelReps} samples, alternating`);
  out.push('   TF.js b^T: tf.matMul(a, b, false, true) with b [N, K]; best: also b transposed once to [K, N] (its vec4 path), programs tried, fastest kept');
  out.push(kernelTable(r.kernel.rows, r.adapter.isFallbackAdapter));
  out.push(
    `best rate: ${f(r.kernel.bestGflops)} GFLOP/s (${r.kernel.best.R} x ${r.kernel.best.N} x ${r.kernel.best.K}); the same kernel alongside part 2: ${f(p.reference.gflops)} GFLOP/s`,
  );
  if (r.chromium && 'rows' in r.chromium) {
    out.push(
      `\n1b. The same in headless Chromium: ${r.chromium.adapter}${r.chromium.description ? ` | ${r.chromium.description}` : ''} | ${r.chromium.userAgent.replace(/^.*(HeadlessChrome\/[\d.]+).*$/, '$1')}`,
    );
    out.push(kernelTable(r.chromium.rows, false));
  } else if (r.chromium) {
    out.push(`\n1b. Chromium: not run (${r.chromium.skipped})`);
  }

  const D = MODELS[p.model]!;
  out.push(
    `\n2. Pipeline: random ${p.model}-shaped model (D=${D.hidden_size}, H=${D.num_attention_heads}, Hkv=${D.num_key_value_heads}, dh=${D.head_dim}, I=${D.intermediate_size}, V=${D.vocab_size}), ` +
      `${p.layers} of ${p.modelLayers} layers, f32, T = ${p.T}, one target; median of ${cfg.reps}, alternating`,
  );
  const sw = r.adapter.isFallbackAdapter;
  const pipeRow = (name: string, e: PipelineResult['forward'], k: 'forward' | 'token' | 'head') => [
    name,
    f(e.ms, 1),
    ...(sw ? [f(e.cpuMs, 0)] : []),
    gf(e.flops),
    f(e.gflops),
    f(p.efficiency[k].part1),
    f(p.efficiency[k].alongside),
    ...(sw ? [f(p.efficiency[k].cpu)] : []),
  ];
  out.push(
    table(
      ['pass', 'ms', ...(sw ? ['CPU ms'] : []), 'GFLOP', 'GFLOP/s', 'efficiency', 'eff. alongside', ...(sw ? ['eff. CPU'] : [])],
      [
        pipeRow('forward (logits of every position)', p.forward, 'forward'),
        pipeRow(`token mode (M = ${p.token.components}, ${p.token.rows} active rows)`, p.token, 'token'),
        pipeRow(`head map (${p.head.passes} passes of M = ${(D.num_attention_heads ?? 0) + 1})`, p.head, 'head'),
      ],
    ),
  );
  out.push('efficiency = FLOPs / (time x best rate of part 1); alongside: x the rate of that kernel re-timed between these samples');
  if (sw) out.push('eff. CPU: the same with process CPU time for both (software adapter: the work itself, whatever else the machine runs)');

  out.push(`\n3. Neurons: all ${n.neurons} neurons of layer ${n.layer}, T = ${n.T}, target at the last position; median of ${cfg.neuronReps} run(s)`);
  const cpuCols = (ms: number, speedup: number) => (sw ? [f(ms, 0), f(speedup, 2)] : []);
  out.push(
    table(
      ['method', 'ms', 'GFLOP', 'GFLOP/s', 'DePass speed-up', 'FLOP ratio', ...(sw ? ['CPU ms', 'speed-up by CPU'] : [])],
      [
        [
          `DePass (${n.depass.passes} pass(es) of ${n.depass.groupSize} neurons, forward included)`,
          f(n.depass.ms, 0),
          gf(n.depass.flops),
          f(n.depass.gflops),
          '1.00',
          '1.00',
          ...cpuCols(n.depass.cpuMs, 1),
        ],
        [
          `ablation, one neuron per pass (${n.single.sample} timed, extrapolated to ${n.neurons})`,
          f(n.single.ms, 0),
          gf(n.single.flops),
          f(n.single.gflops),
          f(n.speedupSingle, 2),
          f(n.single.flops / n.depass.flops),
          ...cpuCols(n.single.cpuMs, n.cpu.speedupSingle),
        ],
        [
          `ablation, ${n.batched.copies} copies per pass (${n.batched.passes} pass(es))`,
          f(n.batched.ms, 0),
          gf(n.batched.flops),
          f(n.batched.gflops),
          f(n.speedupBatched),
          f(n.flopRatioBatched),
          ...cpuCols(n.batched.cpuMs, n.cpu.speedupBatched),
        ],
      ],
    ),
  );
  out.push(
    `checks: one-at-a-time and batched ablation logits differ by at most ${n.maxDiffSingleVsBatched.toExponential(1)}; ` +
      `Spearman(DePass score, ablation effect) = ${f(n.rankCorrelation, 3)}`,
  );

  out.push(
    `\n4. Token-mode saving: token-mode time / (M x forward time) = ${f(p.token.ms, 1)} / (${p.token.components} x ${f(p.forward.ms, 1)}) = ${f(r.tokenSaving.time, 3)}`,
  );
  out.push(`   in FLOPs: ${f(r.tokenSaving.flops, 3)} (the triangle skip, and no unembedding per component)`);

  out.push('\nTargets');
  out.push(
    table(
      ['figure', 'value', 'target', 'met'],
      r.targets.map((t) => [t.name, f(t.value), `>= ${t.target}`, t.met ? 'yes' : 'NO']),
    ),
  );
  if (cfg.profile) {
    out.push(profileTable('forward', p.forward.profile, p.forward.matmulCheck));
    out.push(profileTable('token mode', p.token.profile, p.token.matmulCheck));
    out.push(profileTable('head map', p.head.profile, p.head.matmulCheck));
    out.push(profileTable('DePass neuron mode (forward included)', n.depass.profile, n.depass.matmulCheck));
  }
  out.push(`\ntotal ${f(r.elapsedSeconds, 0)} s`);
  return out.join('\n');
}
