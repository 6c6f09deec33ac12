// The device's profile, made once per device: native f16 products and subgroup reductions where
// the device has the features, and the matmul tile plan: the large-tile shapes its limits allow,
// timed on one product (a short calibration), the fastest kept. Cached per device; a tool or test
// may fix a device's profile instead (setDeviceProfile).

import { createStorage, uploadStorage } from './buffers';
import type { GpuContext } from './device';
import { kernelCache, type ShaderLoader } from './kernels';
import { matmul } from './ops';
import { type DeviceProfile, plainProfile } from './profile';
import { Step, StepPool } from './step';
import { LARGE_CANDIDATES, tileFits, type TileName, type TilePlan } from './tiles';

export interface TuningOptions {
  /** Time the large-tile shapes (default); false: the plan from limits alone. */
  calibrate?: boolean;
}

const profiles = new WeakMap<GPUDevice, Promise<DeviceProfile>>();

/** The device's profile, made on first call (with a calibration unless told otherwise) and kept. */
export function deviceProfile(ctx: GpuContext, loader: ShaderLoader, opts: TuningOptions = {}): Promise<DeviceProfile> {
  let p = profiles.get(ctx.device);
  if (!p) {
    p = makeProfile(ctx, loader, opts);
    profiles.set(ctx.device, p);
    p.catch(() => profiles.delete(ctx.device));
  }
  return p;
}

/** Fixes a device's profile (for tests and tools that want one path rather than the calibrated one). */
export function setDeviceProfile(device: GPUDevice, profile: DeviceProfile): void {
  profiles.set(device, Promise.resolve(profile));
}

/** A step pool on the device's profile, with the kernel cache of its reduction variant. */
export async function devicePool(ctx: GpuContext, loader: ShaderLoader, opts: TuningOptions = {}): Promise<StepPool> {
  const profile = await deviceProfile(ctx, loader, opts);
  return new StepPool(ctx.device, kernelCache(ctx.device, loader, { subgroups: profile.subgroups }), profile);
}

async function makeProfile(ctx: GpuContext, loader: ShaderLoader, opts: TuningOptions): Promise<DeviceProfile> {
  const plain = plainProfile(ctx.device, ctx.adapter.isFallbackAdapter);
  if (opts.calibrate === false) return plain;
  return { ...plain, tiles: await calibrateTiles(ctx.device, loader, plain.tiles) };
}

/** The product the calibration times: as wide as a small model's MLP, with many component rows. */
const SHAPE = { R: 512, N: 1024, K: 512 };
/** A sample repeats the product until it lasts this long (fence overhead on fast GPUs). */
const MIN_SAMPLE_MS = 20;
const SAMPLES = 3;

/**
 * Times every large-tile shape the device's limits allow on one f32 product, alternating them
 * sample by sample, and keeps the fastest (median of the samples) as the plan's large tiles.
 */
export async function calibrateTiles(device: GPUDevice, loader: ShaderLoader, base: TilePlan): Promise<TilePlan> {
  const started = performance.now();
  const candidates = LARGE_CANDIDATES.filter((t) => tileFits(t, device.limits));
  if (candidates.length < 2) return base;
  const pool = new StepPool(device, kernelCache(device, loader));
  const { R, N, K } = SHAPE;
  const X = uploadStorage(
    device,
    'calibration X',
    Float32Array.from({ length: R * K }, (_, i) => ((i * 7919) % 13) / 13 - 0.5),
  );
  const W = uploadStorage(
    device,
    'calibration W',
    Float32Array.from({ length: N * K }, (_, i) => ((i * 104729) % 17) / 17 - 0.5),
  );
  const Y = createStorage(device, 'calibration Y', R * N * 4);
  const run = async (t: TileName, repeats: number) => {
    const step = new Step(pool, `calibration ${t}`);
    for (let i = 0; i < repeats; i++) await matmul(step, { X, W, wDtype: 'F32', Y, R, N, K, tiles: t });
    const t0 = performance.now();
    await step.submit(true);
    return performance.now() - t0;
  };
  try {
    const repeats = new Map<TileName, number>();
    for (const t of candidates) {
      await run(t, 1); // compiles the pipeline
      const one = await run(t, 1);
      repeats.set(t, Math.max(1, Math.min(100, Math.ceil(MIN_SAMPLE_MS / Math.max(one, 1e-3)))));
    }
    const samples = new Map<TileName, number[]>(candidates.map((t) => [t, []]));
    for (let s = 0; s < SAMPLES; s++) for (const t of candidates) samples.get(t)!.push((await run(t, repeats.get(t)!)) / repeats.get(t)!);
    const gflops: Partial<Record<TileName, number>> = {};
    for (const t of candidates) gflops[t] = (2 * R * N * K) / median(samples.get(t)!) / 1e6;
    const best = candidates.reduce((a, b) => (gflops[b]! > gflops[a]! ? b : a));
    return { ...base, large: best, source: 'calibration', calibration: { R, N, K, gflops, ms: performance.now() - started } };
  } finally {
    X.destroy();
    W.destroy();
    Y.destroy();
    pool.destroy();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
