// The benchmark as a function: runs the five parts on a WebGPU context and returns the report
// (what bench/reports/*.json holds, typed in report.ts) and its printed form. main.ts is the command line around it;
// a test may call runBench with parseArgs(['--quick']).

import os from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { adapterName, type GpuContext } from '../src/gpu/device';
import type { ShaderLoader } from '../src/gpu/kernels';
import { describeProfile } from '../src/gpu/profile';
import { devicePool } from '../src/gpu/tuning';
import { createNodeGpu } from '../src/gpu/node';
import { randomModel, type RandomModelOptions } from '../src/model/testing/random-model';
import { MODELS, type BenchConfig } from './config';
import { benchKernels, oursOn } from './kernel';
import { benchNeurons } from './neurons';
import { benchPaths } from './paths';
import { benchPipeline, type PipelineResult } from './pipeline';
import { loadTfMatmul, type TfMatmul } from './tfjs';
import { chromiumKernels } from './browser/chromium';
import { type BenchReport, formatReport, type Target } from './report';

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
  // As GpuBackend makes it, but calibrated on any adapter (GpuBackend calibrates on hardware ones).
  const pool = await devicePool(ctx, loader, { calibrate: true });
  log(`profile: ${describeProfile(pool.profile)}`);
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

  // 5. Kernel paths (before part 3's large allocations), on the pipeline's shape with at most 4 layers.
  log(`paths: weights in F32, F16 (expanded and native) and BF16; reductions`);
  const paths = await benchPaths(ctx, { ...modelOpts, num_hidden_layers: Math.min(cfg.layers, 4) }, loader, { T: cfg.pipelineT, reps: cfg.reps, log });

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
  const efficiency = { forward: eff(pipe.forward), token: eff(pipe.token), head: eff(pipe.head), headOnePass: eff(pipe.headOnePass) };
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
  const headMapSaving = { time: pipe.headOnePass.ms / pipe.head.ms, flops: pipe.headOnePass.flops / pipe.head.flops };
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
    profile: pool.profile,
    kernel: { rows: kernels, bestGflops, best: { R: bestRow.R, N: bestRow.N, K: bestRow.K } },
    chromium,
    pipeline: { ...pipe, model: cfg.model, layers: cfg.layers, modelLayers: spec.num_hidden_layers!, efficiency },
    neurons: { ...neurons, speedupSingle, speedupBatched, flopRatioBatched, shareOfFlopAdvantage: speedupBatched / flopRatioBatched, cpu: cpuRatios },
    tokenSaving,
    headMapSaving,
    paths,
    targets,
    elapsedSeconds: (performance.now() - started) / 1000,
  };
  return { report, text: formatReport(report) };
}
