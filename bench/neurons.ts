// Part 3: every neuron of one layer attributed by DePass (runDepass, mode 'neuron', grouped passes)
// against ablation of the same neurons (src/gpu/ablation.ts), one neuron per pass as usually run
// (timed on a sample and extrapolated linearly) and many ablated copies per pass. Both start from
// the prompt alone: DePass's time includes its forward pass, ablation's its clean pass. The
// methods take turns `reps` times (median of each).

import type { TargetSpec } from '../src/depass/backend';
import { runDepass, type RunInput } from '../src/depass/run';
import type { GpuContext } from '../src/gpu/device';
import { GpuBackend } from '../src/gpu/engine';
import type { ShaderLoader } from '../src/gpu/kernels';
import type { KernelTime } from '../src/gpu/profiler';
import { NeuronAblation } from './ablation';
import type { RandomModel } from '../src/model/testing/random-model';
import { ablationFlops, forwardFlops, neuronModeFlops } from './flops';
import { matmulCheck, poolOf, profiled, promptIds } from './pipeline';
import { median, spearman, timeOnce } from './stats';

export interface NeuronResult {
  T: number;
  layer: number;
  neurons: number;
  depass: {
    ms: number;
    cpuMs: number;
    flops: number;
    gflops: number;
    matmulFlops: number;
    groupSize: number;
    passes: number;
    profile?: KernelTime[];
    matmulCheck?: number;
  };
  /** One pass per neuron: `sample` neurons timed, the rest extrapolated. */
  single: { ms: number; cpuMs: number; flops: number; gflops: number; sample: number; sampleMs: number; cleanMs: number };
  batched: { ms: number; cpuMs: number; flops: number; gflops: number; copies: number; passes: number; cleanMs: number };
  /** Largest |one-at-a-time - batched| logit over the sample (the two forms compute the same thing). */
  maxDiffSingleVsBatched: number;
  /** Spearman correlation of DePass scores with ablation effects (clean - ablated logit). */
  rankCorrelation: number;
}

export async function benchNeurons(
  ctx: GpuContext,
  model: RandomModel,
  loader: ShaderLoader,
  opts: { T: number; layer: number; sample: number; reps: number; ablationBudget?: number; profile: boolean; log: (s: string) => void },
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

  // Kernels are warm from the pipeline part (same shaders and variants, one kernel cache per device).
  const backend = await GpuBackend.create(ctx, cfg, model.weights, loader);
  const ab = await NeuronAblation.create(ctx, cfg, model.weights, loader, { memoryBudget: opts.ablationBudget });
  try {
    // runDepass's default target: the model's own prediction at the last position.
    const fwd = await backend.forward(ids);
    const target: TargetSpec = { position: T - 1, id: fwd.top[T - 1]![0]!.id, contrast_id: null };
    await ab.prepare(ids, layer, [target]);
    await ab.ablate(0, Math.min(2, I), 1); // first-use costs
    const sample = Math.min(opts.sample, I);
    const copies = Math.min(I, ab.maxCopies(T));
    const runDePass = () => runDepass(backend, input, { modes: ['neuron'], layer, positions: 'last' });
    const runBatched = async () => {
      await ab.prepare(ids, layer, [target]);
      return ab.ablate(0, I, copies);
    };
    // The methods take turns, so a slow spell of a shared machine falls on all of them.
    const ms = { depass: [] as number[], clean: [] as number[], single: [] as number[], batched: [] as number[] };
    const cpu = { depass: [] as number[], clean: [] as number[], single: [] as number[], batched: [] as number[] };
    let depassScores: number[] = [];
    let group = I;
    let cleanLogit = 0;
    let singleLogits: Float64Array = new Float64Array(0);
    let batchedLogits: Float64Array = new Float64Array(0);
    for (let rep = 0; rep < Math.max(1, opts.reps); rep++) {
      const d = await timeOnce(runDePass);
      ms.depass.push(d.ms);
      cpu.depass.push(d.cpuMs);
      const neuron = d.value.neuron!;
      if (d.value.targets[0]!.id !== target.id) throw new Error('DePass and ablation disagree on the target');
      depassScores = neuron.scores[0]!;
      group = neuron.group_size;
      const c = await timeOnce(() => ab.prepare(ids, layer, [target]));
      ms.clean.push(c.ms);
      cpu.clean.push(c.cpuMs);
      cleanLogit = c.value[0]!;
      const sRun = await timeOnce(() => ab.ablate(0, sample, 1));
      ms.single.push(sRun.ms);
      cpu.single.push(sRun.cpuMs);
      singleLogits = sRun.value;
      const b = await timeOnce(runBatched);
      ms.batched.push(b.ms);
      cpu.batched.push(b.cpuMs);
      batchedLogits = b.value;
      opts.log(
        `  run ${rep + 1}: DePass ${d.ms.toFixed(0)} ms; ablation: ${sample} neurons one per pass ${sRun.ms.toFixed(0)} ms, all ${I} in ${copies}-copy passes ${b.ms.toFixed(0)} ms`,
      );
    }
    const fl = ablationFlops(cfg, T, layer, I);
    const fw = forwardFlops(cfg, T);
    const nm = neuronModeFlops(cfg, T, layer, group);
    const depassFlops = fw.total + nm.total;
    const dMs = median(ms.depass);
    const depass: NeuronResult['depass'] = {
      ms: dMs,
      cpuMs: median(cpu.depass),
      flops: depassFlops,
      gflops: depassFlops / dMs / 1e6,
      matmulFlops: fw.layers + fw.unembed + nm.matmul,
      groupSize: group,
      passes: Math.ceil(I / group),
    };
    if (opts.profile) {
      depass.profile = await profiled(poolOf(backend), runDePass);
      depass.matmulCheck = matmulCheck(depass.profile, depass.matmulFlops);
    }
    const cleanMs = median(ms.clean);
    const sampleMs = median(ms.single);
    const singleMs = cleanMs + (sampleMs * I) / sample;
    const bMs = median(ms.batched);
    let maxDiff = 0;
    for (let j = 0; j < sample; j++) maxDiff = Math.max(maxDiff, Math.abs(singleLogits[j]! - batchedLogits[j]!));
    const effects = Array.from(batchedLogits, (x) => cleanLogit - x);
    return {
      T,
      layer,
      neurons: I,
      depass,
      single: {
        ms: singleMs,
        cpuMs: median(cpu.clean) + (median(cpu.single) * I) / sample,
        flops: fl.total,
        gflops: fl.total / singleMs / 1e6,
        sample,
        sampleMs,
        cleanMs,
      },
      batched: { ms: bMs, cpuMs: median(cpu.batched), flops: fl.total, gflops: fl.total / bMs / 1e6, copies, passes: Math.ceil(I / copies), cleanMs },
      maxDiffSingleVsBatched: maxDiff,
      rankCorrelation: spearman(depassScores, effects),
    };
  } finally {
    backend.destroy();
    ab.destroy();
  }
}
