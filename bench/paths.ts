// Part 5: the kernel paths a device may take. The weights' paths (F32; F16 expanded to f32 in
// registers; F16 multiplied as f16, where the device has shader-f16; BF16 expanded in registers)
// on the pipeline's model: forward pass and token mode timed alternately, and the bytes their
// matrix products move per token (every workgroup's tile loads, counted by the dispatches). And
// the reductions through workgroup memory against subgroups, kernel by kernel.

import type { TargetSpec } from '../src/depass/backend';
import type { GpuContext } from '../src/gpu/device';
import { GpuBackend } from '../src/gpu/engine';
import { kernelCache, type ShaderLoader } from '../src/gpu/kernels';
import * as ops from '../src/gpu/ops';
import { createStorage, uploadStorage } from '../src/gpu/buffers';
import { Step, StepPool } from '../src/gpu/step';
import { randn } from '../src/gpu/testing/compare';
import { deviceProfile, setDeviceProfile } from '../src/gpu/tuning';
import type { DType } from '../src/model/description';
import { randomModel, type RandomModelOptions } from '../src/model/testing/random-model';
import { ATTRIBUTE_OPTIONS, poolOf, promptIds } from './pipeline';
import { timeInterleaved } from './stats';

export type WeightPath = 'F32' | 'F16 expanded' | 'F16 native' | 'BF16';

export interface WeightPathRow {
  path: WeightPath;
  /** Bytes of the model's weights on the GPU. */
  weightBytes: number;
  forwardMs: number;
  tokenMs: number;
  /** Per token of the prompt: bytes the matrix products move to and from device memory, and stage in workgroup memory. */
  forwardBytes: number;
  forwardStaged: number;
  tokenBytes: number;
  tokenStaged: number;
}

export interface ReductionRow {
  kernel: string;
  shape: string;
  workgroupMs: number;
  subgroupsMs: number;
}

export interface PathsResult {
  T: number;
  weights: WeightPathRow[];
  /** Why a path did not run (e.g. no shader-f16). */
  skipped: string[];
  reductions: ReductionRow[] | { skipped: string };
}

const DTYPE: Record<WeightPath, DType> = { F32: 'F32', 'F16 expanded': 'F16', 'F16 native': 'F16', BF16: 'BF16' };

export async function benchPaths(
  ctx: GpuContext,
  modelOpts: RandomModelOptions,
  loader: ShaderLoader,
  opts: { T: number; reps: number; log: (s: string) => void },
): Promise<PathsResult> {
  const device = ctx.device;
  const profile = await deviceProfile(ctx, loader);
  const skipped: string[] = [];
  const paths: WeightPath[] = ['F32', 'F16 expanded', 'F16 native', 'BF16'];
  if (!device.features.has('shader-f16')) {
    paths.splice(paths.indexOf('F16 native'), 1);
    skipped.push('F16 native: the device does not offer shader-f16');
  }
  const models = new Map<DType, ReturnType<typeof randomModel>>();
  const backends = new Map<WeightPath, GpuBackend>();
  try {
    for (const p of paths) {
      const dtype = DTYPE[p];
      if (!models.has(dtype)) models.set(dtype, randomModel({ ...modelOpts, dtype }));
      const m = models.get(dtype)!;
      // The engine takes its paths from the device's profile when it is made: fix it for this one.
      setDeviceProfile(device, { ...profile, nativeF16: p === 'F16 native' });
      backends.set(p, await GpuBackend.create(ctx, m.description, m.weights, loader));
    }
  } finally {
    setDeviceProfile(device, profile);
  }
  try {
    const cfg = models.get('F32')!.description;
    const ids = promptIds(opts.T, cfg.vocab_size, 7);
    const targets = new Map<WeightPath, TargetSpec[]>();
    for (const [p, b] of backends) {
      const fwd = await b.forward(ids);
      targets.set(p, [{ position: opts.T - 1, id: fwd.top[opts.T - 1]![0]!.id, contrast_id: null }]);
    }
    const runs: Record<string, (n: number) => Promise<void>> = {};
    for (const [p, b] of backends) {
      runs[`forward ${p}`] = async (n) => {
        for (let i = 0; i < n; i++) await b.forward(ids);
      };
      runs[`token ${p}`] = async (n) => {
        for (let i = 0; i < n; i++) await b.attribute({ kind: 'token' }, targets.get(p)!, ATTRIBUTE_OPTIONS);
      };
    }
    const t = await timeInterleaved(runs, { reps: opts.reps, minSampleMs: 0 });
    const weights: WeightPathRow[] = [];
    for (const [p, b] of backends) {
      const pool = poolOf(b);
      const count = async (fn: () => Promise<unknown>) => {
        pool.traffic = { flops: 0, bytes: 0, staged: 0 };
        try {
          await fn();
          return { bytes: pool.traffic.bytes / opts.T, staged: pool.traffic.staged / opts.T };
        } finally {
          pool.traffic = null;
        }
      };
      const f = await count(() => b.forward(ids));
      const k = await count(() => b.attribute({ kind: 'token' }, targets.get(p)!, ATTRIBUTE_OPTIONS));
      weights.push({
        path: p,
        weightBytes: b.weightBytes,
        forwardMs: t[`forward ${p}`]!.ms,
        tokenMs: t[`token ${p}`]!.ms,
        forwardBytes: f.bytes,
        forwardStaged: f.staged,
        tokenBytes: k.bytes,
        tokenStaged: k.staged,
      });
      opts.log(
        `  ${p}: forward ${t[`forward ${p}`]!.ms.toFixed(1)} ms, ${(f.bytes / 1e6).toFixed(1)} MB per token; token mode ${t[`token ${p}`]!.ms.toFixed(1)} ms`,
      );
    }
    const reductions = device.features.has('subgroups')
      ? await benchReductions(device, loader, cfg.hidden_size, cfg.num_attention_heads, opts)
      : { skipped: 'the device does not offer subgroups' };
    return { T: opts.T, weights, skipped, reductions };
  } finally {
    for (const b of backends.values()) b.destroy();
  }
}

/** The reducing kernels on workgroup memory and on subgroups, alternately, on shapes of the pipeline's model. */
async function benchReductions(
  device: GPUDevice,
  loader: ShaderLoader,
  D: number,
  H: number,
  opts: { T: number; reps: number; log: (s: string) => void },
): Promise<ReductionRow[]> {
  const pools = {
    workgroup: new StepPool(device, kernelCache(device, loader, { subgroups: false })),
    subgroups: new StepPool(device, kernelCache(device, loader, { subgroups: true })),
  };
  const { T } = opts;
  const R = (T + 1) * T; // rows of a token-mode pass
  const Ta = 4 * T; // a longer prompt for the attention rows
  const V = 32768;
  const bufs: GPUBuffer[] = [];
  const up = (n: number, seed: number) => {
    const b = uploadStorage(device, 'bench data', randn(n, seed));
    bufs.push(b);
    return b;
  };
  const out = (n: number) => {
    const b = createStorage(device, 'bench out', n * 4);
    bufs.push(b);
    return b;
  };
  const h = up(R * D, 1);
  const [scale, mean] = [out(R), out(R)];
  const [q, k, A] = [up(Ta * H * 64, 2), up(Ta * H * 64, 3), out(H * Ta * Ta)];
  const [logits, ids, vals] = [up(T * V, 4), out(T * 5), out(T * 5)];
  const kernels: Record<string, { shape: string; record: (s: Step) => Promise<void> }> = {
    norm_stats: { shape: `LayerNorm statistics of ${R} rows x ${D}`, record: (s) => ops.normStats(s, { h, scale, mean, T: R, D, eps: 1e-5, layer: true }) },
    attention_probs: { shape: `T = ${Ta}, ${H} heads of 64`, record: (s) => ops.attentionProbs(s, { q, k, A, T: Ta, H, Hkv: H, dh: 64 }) },
    topk: { shape: `top-5 of ${T} rows x ${V}`, record: (s) => ops.topk(s, { logits, ids, vals, T, Vc: V, v0: 0, o0: 0, ldo: 5, k: 5 }) },
  };
  try {
    const runs: Record<string, (n: number) => Promise<void>> = {};
    for (const [name, kc] of Object.entries(kernels)) {
      for (const [variant, pool] of Object.entries(pools)) {
        runs[`${name} ${variant}`] = async (n) => {
          const step = new Step(pool, `bench ${name}`);
          for (let i = 0; i < n; i++) await kc.record(step);
          await step.submit(true);
        };
      }
    }
    const t = await timeInterleaved(runs, { reps: opts.reps, minSampleMs: 20 });
    return Object.entries(kernels).map(([name, kc]) => {
      const row = { kernel: name, shape: kc.shape, workgroupMs: t[`${name} workgroup`]!.ms, subgroupsMs: t[`${name} subgroups`]!.ms };
      opts.log(`  ${name}: workgroup ${row.workgroupMs.toFixed(2)} ms, subgroups ${row.subgroupsMs.toFixed(2)} ms`);
      return row;
    });
  } finally {
    for (const b of bufs) b.destroy();
    for (const p of Object.values(pools)) p.destroy();
  }
}
