// The device's profile, made once per device: subgroup reductions where the device has them; the
// matmul tile plan, the large-tile shapes its limits allow timed on one product (a short
// calibration, on hardware adapters unless asked) and the fastest kept; and native f16 products
// where the device has shader-f16 and they beat expanding the weights on the same product. Cached
// per device; a tool or test may fix a device's profile instead (setDeviceProfile).

import { float32ToTensorBytes } from '../model/dtype';
import { createStorage, uploadStorage } from './buffers';
import type { GpuContext } from './device';
import { kernelCache, type ShaderLoader } from './kernels';
import { matmul } from './ops';
import { type DeviceProfile, plainProfile } from './profile';
import { Step, StepPool } from './step';
import { LARGE_CANDIDATES, tileFits, type TileName, type TilePlan } from './tiles';

export interface TuningOptions {
  /**
   * Time the tile shapes and the f16 path: always (true), never (false: the plan from limits
   * alone), or only on a hardware adapter ('hardware', the default): on a CPU-backed adapter the
   * calibration costs seconds of compilation and its timings are at the mercy of the machine's
   * other work, so the app and the command take the plain profile there.
   */
  calibrate?: boolean | 'hardware';
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
  const software = ctx.adapter.isFallbackAdapter;
  const calibrate = opts.calibrate ?? 'hardware';
  if (calibrate === false || (calibrate === 'hardware' && software)) return plain;
  const tiles = await calibrateTiles(ctx.device, loader, plain.tiles, software);
  if (!ctx.device.features.has('shader-f16')) return { ...plain, tiles };
  // Native f16 products cost precision (docs/method.md): used only where clearly faster.
  const f16 = await calibrateF16(ctx.device, loader, tiles, software);
  return { ...plain, tiles, nativeF16: f16.native > F16_MARGIN * f16.expanded, f16 };
}

/** Native f16 products must beat expanded weights by this factor to be used. */
const F16_MARGIN = 1.05;

/** The product the calibration times: 8 of the largest tiles, 32 of the 128 x 128 ones. */
const SHAPE = { R: 512, N: 1024, K: 256 };
/** A sample repeats the product until it lasts this long (fence overhead on fast GPUs). */
const MIN_SAMPLE_MS = 20;
/** Samples per contender, alternating; fewer when they would take longer than SAMPLE_BUDGET_MS. */
const SAMPLES = 3;
const SAMPLE_BUDGET_MS = 1500;

/**
 * Process CPU milliseconds, where a process can be asked (Node), else null. On a software adapter
 * the GPU's work runs on this process's threads, so CPU time measures the work itself, which the
 * other processes of a shared machine do not inflate as they do wall time.
 */
function cpuNow(): number | null {
  const proc = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (!proc?.cpuUsage) return null;
  const u = proc.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The calibration's operands, and a timer of one path of the product on them. */
function calibrationRun(device: GPUDevice, loader: ShaderLoader, plan: TilePlan, software: boolean) {
  const byCpu = software && cpuNow() !== null;
  const now = () => (byCpu ? cpuNow()! : performance.now());
  const pool = new StepPool(device, kernelCache(device, loader), { tiles: plan });
  const { R, N, K } = SHAPE;
  const X = uploadStorage(
    device,
    'calibration X',
    Float32Array.from({ length: R * K }, (_, i) => ((i * 7919) % 13) / 13 - 0.5),
  );
  // Multiples of 1/16: exact in f32 and f16 alike, so both paths multiply the same numbers.
  const values = Float32Array.from({ length: N * K }, (_, i) => (((i * 104729) % 17) - 8) / 16);
  const W32 = uploadStorage(device, 'calibration W f32', values);
  const W16 = uploadStorage(device, 'calibration W f16', float32ToTensorBytes(values, 'F16'));
  const Y = createStorage(device, 'calibration Y', R * N * 4);
  const time = async (path: { tiles?: TileName; f16?: boolean; native?: boolean }, repeats: number) => {
    const step = new Step(pool, 'calibration');
    const W = path.f16 ? W16 : W32;
    for (let i = 0; i < repeats; i++) await matmul(step, { X, W, wDtype: path.f16 ? 'F16' : 'F32', Y, R, N, K, tiles: path.tiles, nativeF16: path.native });
    const t0 = now();
    await step.submit(true);
    return now() - t0;
  };
  const dispose = () => {
    for (const b of [X, W32, W16, Y]) b.destroy();
    pool.destroy();
  };
  return { time, dispose, flops: 2 * R * N * K };
}

/**
 * Times contenders alternately, repeats per sample chosen for MIN_SAMPLE_MS, SAMPLES rounds or as
 * many as SAMPLE_BUDGET_MS allows (at least one); GFLOP/s of each (median of its samples).
 */
async function rates<K extends string>(names: readonly K[], time: (name: K, repeats: number) => Promise<number>, flops: number): Promise<Record<K, number>> {
  const repeats = new Map<K, number>();
  for (const n of names) {
    await time(n, 1); // compiles the pipeline
    const one = await time(n, 1);
    repeats.set(n, Math.max(1, Math.min(1000, Math.ceil(MIN_SAMPLE_MS / Math.max(one, 1e-3)))));
  }
  const samples = new Map<K, number[]>(names.map((n) => [n, []]));
  const t0 = performance.now();
  for (let s = 0; s < SAMPLES && (s === 0 || performance.now() - t0 < SAMPLE_BUDGET_MS); s++) {
    for (const n of names) samples.get(n)!.push((await time(n, repeats.get(n)!)) / repeats.get(n)!);
  }
  return Object.fromEntries(names.map((n) => [n, flops / median(samples.get(n)!) / 1e6])) as Record<K, number>;
}

/**
 * Times every large-tile shape the device's limits allow on one f32 product, alternating them
 * sample by sample, and keeps the fastest (median of the samples) as the plan's large tiles.
 */
export async function calibrateTiles(device: GPUDevice, loader: ShaderLoader, base: TilePlan, software = false): Promise<TilePlan> {
  const started = performance.now();
  const candidates = LARGE_CANDIDATES.filter((t) => tileFits(t, device.limits));
  if (candidates.length < 2) return base;
  const run = calibrationRun(device, loader, base, software);
  try {
    const gflops = await rates(candidates, (t, n) => run.time({ tiles: t }, n), run.flops);
    const best = candidates.reduce((a, b) => (gflops[b] > gflops[a] ? b : a));
    return { ...base, large: best, source: 'calibration', calibration: { ...SHAPE, gflops, ms: performance.now() - started } };
  } finally {
    run.dispose();
  }
}

/** GFLOP/s of the calibration product with F16 weights, expanded to f32 and multiplied as f16 (the plan's tiles). */
export async function calibrateF16(device: GPUDevice, loader: ShaderLoader, plan: TilePlan, software = false): Promise<{ expanded: number; native: number }> {
  const run = calibrationRun(device, loader, plan, software);
  try {
    return await rates(['expanded', 'native'] as const, (p, n) => run.time({ f16: true, native: p === 'native' }, n), run.flops);
  } finally {
    run.dispose();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
