// Parts 2 and 4: the engine's forward pass, token-mode DePass and the head map (one head-mode
// pass per layer, as runDepass runs mode 'head' by default, and all layers' heads in one pass) on
// a random model shaped like a real one, timed as the worker calls them (allocation, dispatch and
// read-back included), with analytic FLOPs.
// The three alternate sample by sample with a reference kernel (part 1's best shape), so that the
// efficiency can also be taken against a kernel rate measured under the same machine load.

import type { AttributeOptions, TargetSpec } from '../src/depass/backend';
import type { GpuContext } from '../src/gpu/device';
import { GpuBackend } from '../src/gpu/engine';
import type { ShaderLoader } from '../src/gpu/kernels';
import { GpuProfiler, type KernelTime } from '../src/gpu/profiler';
import type { StepPool } from '../src/gpu/step';
import type { RandomModel } from '../src/model/testing/random-model';
import { forwardFlops, headMapFlops, headMapOnePassFlops, tokenModeFlops } from './flops';
import { timeInterleaved } from './stats';

export const ATTRIBUTE_OPTIONS: AttributeOptions = { rule: 'softmax', tau: 0.1, bosAtZero: false };

export interface PipelineEntry {
  ms: number;
  samples: number[];
  /** Median process CPU milliseconds (the work itself on a software adapter; see stats.ts). */
  cpuMs: number;
  flops: number;
  gflops: number;
  /** The matrix-product part of `flops` (what the engine's matmul dispatches should add up to). */
  matmulFlops: number;
  /** Per-kernel GPU time of one extra profiled run (timestamps serialise kernels), when asked. */
  profile?: KernelTime[];
  /** With a profile: matmul FLOPs the engine dispatched (2 R N K each) over matmulFlops. */
  matmulCheck?: number;
}

export interface PipelineResult {
  T: number;
  forward: PipelineEntry;
  token: PipelineEntry & { components: number; rows: number };
  head: PipelineEntry & { passes: number };
  /** The head map in one pass (M = L H + 1), and how far its scores are from the per-layer map's. */
  headOnePass: PipelineEntry & { components: number; difference: { softmax: number; proportional: number } };
  /** The reference kernel timed alongside: GFLOP/s, per CPU-second too, and samples. */
  reference: { gflops: number; cpuGflops: number; samples: number[] };
}

/** Prompt ids drawn from the vocabulary with a fixed seed. */
export function promptIds(T: number, V: number, seed: number): number[] {
  let a = seed >>> 0;
  return Array.from({ length: T }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a % V;
  });
}

/** The engine's step pool, for attaching a profiler or a traffic count (the backend keeps it private). */
export function poolOf(backend: GpuBackend): StepPool {
  return (backend as unknown as { parts: { pool: StepPool } }).parts.pool;
}

/** One run of `fn` with a profiler on the pool; per-kernel totals, slowest first. */
export async function profiled(pool: StepPool, fn: () => Promise<unknown>): Promise<KernelTime[] | undefined> {
  if (!pool.device.features.has('timestamp-query')) return undefined;
  const profiler = new GpuProfiler(pool.device);
  pool.profiler = profiler;
  try {
    await fn();
  } finally {
    pool.profiler = null;
  }
  return profiler.report();
}

/** FLOPs the profiled matmul dispatches reported, over the analytic count. */
export function matmulCheck(profile: KernelTime[] | undefined, analytic: number): number | undefined {
  const m = profile?.find((k) => k.kernel === 'matmul');
  return m ? m.flops / analytic : undefined;
}

export async function benchPipeline(
  ctx: GpuContext,
  model: RandomModel,
  loader: ShaderLoader,
  reference: { run: (repeats: number) => Promise<void>; flops: number },
  opts: { T: number; reps: number; profile: boolean; log: (s: string) => void },
): Promise<PipelineResult> {
  const cfg = model.description;
  const { T } = opts;
  const L = cfg.num_hidden_layers;
  const ids = promptIds(T, cfg.vocab_size, 7);
  const backend = await GpuBackend.create(ctx, cfg, model.weights, loader);
  try {
    const fwd = await backend.forward(ids);
    const targets: TargetSpec[] = [{ position: T - 1, id: fwd.top[T - 1]![0]!.id, contrast_id: null }];
    // Each attribute call reads the record of the last forward() call.
    const passes = {
      forward: () => backend.forward(ids),
      token: () => backend.attribute({ kind: 'token' }, targets, ATTRIBUTE_OPTIONS),
      head: () => perLayer(ATTRIBUTE_OPTIONS),
      headOnePass: () => backend.attribute({ kind: 'head_map' }, targets, ATTRIBUTE_OPTIONS),
    };
    async function perLayer(o: AttributeOptions): Promise<number[]> {
      const scores: number[] = [];
      for (let l = 0; l < L; l++) {
        const s = await backend.attribute({ kind: 'head', layer: l }, targets, o);
        scores.push(...Array.from(s.scores).filter((_, m) => m !== s.rest));
      }
      return scores;
    }
    // Largest |one pass - per layer| over the heads' scores, per largest |score| (the one target).
    const difference = async (rule: AttributeOptions['rule']) => {
      const o = { ...ATTRIBUTE_OPTIONS, rule };
      const per = await perLayer(o);
      const one = Array.from((await backend.attribute({ kind: 'head_map' }, targets, o)).scores).slice(1);
      return Math.max(...one.map((x, i) => Math.abs(x - per[i]!))) / Math.max(...per.map(Math.abs));
    };
    const fw = forwardFlops(cfg, T);
    const tk = tokenModeFlops(cfg, T);
    const hm = headMapFlops(cfg, T);
    const h1 = headMapOnePassFlops(cfg, T);
    const flops = { forward: fw.total, token: tk.total, head: hm.total, headOnePass: h1.total };
    const matmulFlops = { forward: fw.layers + fw.unembed, token: tk.matmul, head: hm.matmul, headOnePass: h1.matmul };
    const once = (fn: () => Promise<unknown>) => async (repeats: number) => {
      for (let i = 0; i < repeats; i++) await fn();
    };
    const t = await timeInterleaved(
      { forward: once(passes.forward), token: once(passes.token), head: once(passes.head), headOnePass: once(passes.headOnePass), reference: reference.run },
      { reps: opts.reps, minSampleMs: 0 },
    );
    const entry = async (name: keyof typeof passes): Promise<PipelineEntry> => {
      const tm = t[name]!;
      const e: PipelineEntry = {
        ms: tm.ms,
        samples: tm.samples,
        cpuMs: tm.cpuMs,
        flops: flops[name],
        gflops: flops[name] / tm.ms / 1e6,
        matmulFlops: matmulFlops[name],
      };
      if (opts.profile) {
        e.profile = await profiled(poolOf(backend), passes[name]);
        e.matmulCheck = matmulCheck(e.profile, e.matmulFlops);
      }
      opts.log(`  ${name}: ${tm.ms.toFixed(1)} ms, ${(flops[name] / 1e9).toFixed(2)} GFLOP, ${e.gflops.toFixed(2)} GFLOP/s`);
      return e;
    };
    const forward = await entry('forward');
    const token = await entry('token');
    const head = await entry('head');
    const headOnePass = await entry('headOnePass');
    const diff = { softmax: await difference('softmax'), proportional: await difference('proportional') };
    const ref = t.reference!;
    opts.log(`  reference kernel alongside: ${(reference.flops / ref.ms / 1e6).toFixed(2)} GFLOP/s`);
    return {
      T,
      forward,
      token: { ...token, components: T + 1, rows: tk.rows },
      head: { ...head, passes: L },
      headOnePass: { ...headOnePass, components: L * cfg.num_attention_heads + 1, difference: diff },
      reference: { gflops: reference.flops / ref.ms / 1e6, cpuGflops: reference.flops / ref.cpuMs / 1e6, samples: ref.samples },
    };
  } finally {
    backend.destroy();
  }
}
