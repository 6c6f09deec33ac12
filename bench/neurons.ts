// Part 3: every neuron of one layer attributed by DePass (runDepass, mode 'neuron', grouped passes)
// against ablation of the same neurons (src/gpu/ablation.ts), one neuron per pass as usually run
// (timed on a sample and extrapolated linearly) and many ablated copies per pass. Both start from
// the prompt alone: DePass's time includes its forward pass, ablation's its clean pass. Each form
// is run `reps` times in turn (median); these runs are long, so they are not interleaved.

import type { TargetSpec } from '../src/depass/backend';
import { runDepass, type RunInput } from '../src/depass/run';
import { GpuBackend, type GpuContext, type KernelTime, type ShaderLoader } from '../src/gpu/index';
import { NeuronAblation } from '../src/gpu/ablation';
import type { RandomModel } from '../src/model/testing/random-model';
import { ablationFlops, forwardFlops, neuronModeFlops } from './flops';
import { poolOf, profiled, promptIds } from './pipeline';
import { median, spearman, timeOnce } from './stats';

export interface NeuronResult {
  T: number;
  layer: number;
  neurons: number;
  depass: { ms: number; flops: number; gflops: number; groupSize: number; passes: number; profile?: KernelTime[] };
  /** One pass per neuron: `sample` neurons timed, the rest extrapolated. */
  single: { ms: number; flops: number; gflops: number; sample: number; sampleMs: number; cleanMs: number };
  batched: { ms: number; flops: number; gflops: number; copies: number; passes: number; cleanMs: number };
  /** Largest |one-at-a-time - batched| logit over the sample (the two forms compute the same thing). */
  maxDiffSingleVsBatched: number;
  /** Spearman correlation of DePass scores with ablation effects (clean - ablated logit). */
  rankCorrelation: number;
}

/** Median time of `reps` calls, with the last call's value. */
async function repeated<T>(reps: number, fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const times: number[] = [];
  let value!: T;
  for (let i = 0; i < Math.max(1, reps); i++) {
    const r = await timeOnce(fn);
    times.push(r.ms);
    value = r.value;
  }
  return { ms: median(times), value };
}

export async function benchNeurons(
  ctx: GpuContext,
  model: RandomModel,
  loader: ShaderLoader,
  opts: { T: number; layer: number; sample: number; reps: number; profile: boolean; log: (s: string) => void },
): Promise<NeuronResult> {
  const cfg = model.description;
  const { T, layer } = opts;
  const I = cfg.intermediate_size;
  const ids = promptIds(T, cfg.vocab_size, 11);
  const input: RunInput = {
    model: { name: cfg.name, fingerprint: 'bench', description: cfg },
    prompt: ids.join(' '),
    tokens: ids.map((id, i) => ({ id, text: `t${id}`, start: i, end: i + 1 })),
    bosAtZero: false,
  };

  // DePass: the kernels are warm from the pipeline part (same shaders, same variants).
  const backend = await GpuBackend.create(ctx, cfg, model.weights, loader);
  let depassScores: number[];
  let target: TargetSpec;
  let depass: NeuronResult['depass'];
  try {
    await backend.forward(ids); // uploads and first-use costs out of the timing
    const run = () => runDepass(backend, input, { modes: ['neuron'], layer, positions: 'last' });
    const { ms, value } = await repeated(opts.reps, run);
    const neuron = value.neuron!;
    depassScores = neuron.scores[0]!;
    target = { position: T - 1, id: value.targets[0]!.id, contrast_id: null };
    const group = neuron.group_size;
    const flops = forwardFlops(cfg, T).total + neuronModeFlops(cfg, T, layer, group);
    depass = { ms, flops, gflops: flops / ms / 1e6, groupSize: group, passes: Math.ceil(I / group) };
    if (opts.profile) depass.profile = await profiled(poolOf(backend), run);
    opts.log(`  DePass, ${I} neurons in ${depass.passes} pass(es) of ${group}: ${ms.toFixed(0)} ms, ${(flops / 1e9).toFixed(1)} GFLOP`);
  } finally {
    backend.destroy();
  }

  const ab = await NeuronAblation.create(ctx, cfg, model.weights, loader);
  try {
    await ab.prepare(ids, layer, [target]);
    await ab.ablate(0, Math.min(2, I), 1); // first-use costs (pipelines are shared with the engine's through kernelCache)
    const clean = await repeated(opts.reps, () => ab.prepare(ids, layer, [target]));
    const cleanLogit = clean.value[0]!;
    const sample = Math.min(opts.sample, I);
    const singleRun = await repeated(opts.reps, () => ab.ablate(0, sample, 1));
    const singleMs = clean.ms + (singleRun.ms * I) / sample;
    const fl = ablationFlops(cfg, T, layer, I);
    const single = { ms: singleMs, flops: fl.total, gflops: fl.total / singleMs / 1e6, sample, sampleMs: singleRun.ms, cleanMs: clean.ms };
    opts.log(`  ablation one neuron per pass: ${sample} neurons in ${singleRun.ms.toFixed(0)} ms, ${I} extrapolated to ${singleMs.toFixed(0)} ms`);

    const copies = Math.min(I, ab.maxCopies(T));
    const batchedRun = await repeated(opts.reps, async () => {
      await ab.prepare(ids, layer, [target]);
      return ab.ablate(0, I, copies);
    });
    const batched = { ms: batchedRun.ms, flops: fl.total, gflops: fl.total / batchedRun.ms / 1e6, copies, passes: Math.ceil(I / copies), cleanMs: clean.ms };
    opts.log(`  ablation ${copies} copies per pass: ${batchedRun.ms.toFixed(0)} ms, ${(fl.total / 1e9).toFixed(1)} GFLOP`);

    let maxDiff = 0;
    for (let j = 0; j < sample; j++) maxDiff = Math.max(maxDiff, Math.abs(singleRun.value[j]! - batchedRun.value[j]!));
    const effects = Array.from(batchedRun.value, (x) => cleanLogit - x);
    return {
      T,
      layer,
      neurons: I,
      depass,
      single,
      batched,
      maxDiffSingleVsBatched: maxDiff,
      rankCorrelation: spearman(depassScores, effects),
    };
  } finally {
    ab.destroy();
  }
}
