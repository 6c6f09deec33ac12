// What every kernel check shares: its shape (a name, what a device must offer for it, and an async
// run against a test GPU, counting into a Tally), small helpers to upload, read back and run a
// step, and the kernel paths a check can ask for (reduction variant, native f16).

import { readF32, uploadStorage } from '../buffers';
import { Step, StepPool } from '../step';
import type { TestGpu } from './gpu-env';
import type { Tally } from './tally';

export interface KernelCheck {
  name: string;
  /** Why this device cannot run the check (a feature or limit it lacks), or null. */
  unsupported?(gpu: TestGpu): string | null;
  run(gpu: TestGpu, t: Tally): Promise<void>;
  /**
   * On a device that cannot run the check: what the engine does there instead (it refuses the
   * path in one line naming what is missing, or never plans it), so that such a device still
   * tests something rather than skipping.
   */
  refused?(gpu: TestGpu, t: Tally): Promise<void>;
}

export function helpers(gpu: TestGpu) {
  const up = (label: string, data: ArrayBufferView) => uploadStorage(gpu.ctx.device, label, data);
  const read = (b: GPUBuffer, n: number) => readF32(gpu.ctx.device, b, 0, n);
  const step = async (label: string, record: (s: Step) => Promise<void>) => {
    const s = new Step(gpu.pool, label);
    await record(s);
    await s.submit();
  };
  return { up, read, step };
}

/** The reason a device lacks a feature, or null. */
export function lacks(gpu: TestGpu, feature: GPUFeatureName): string | null {
  return gpu.ctx.device.features.has(feature) ? null : `the device does not offer ${feature}`;
}

const pools = new WeakMap<TestGpu, Map<string, TestGpu>>();

/** The test GPU with a pool on other kernel paths (reductions through subgroups, native f16 products). */
export function onPaths(gpu: TestGpu, paths: { subgroups: boolean; nativeF16: boolean }): TestGpu {
  let byPaths = pools.get(gpu);
  if (!byPaths) {
    byPaths = new Map();
    pools.set(gpu, byPaths);
  }
  const key = `${paths.subgroups}/${paths.nativeF16}`;
  let g = byPaths.get(key);
  if (!g) {
    const kernels = gpu.kernels.withVariants({ subgroups: paths.subgroups });
    g = { ...gpu, kernels, pool: new StepPool(gpu.ctx.device, kernels, { nativeF16: paths.nativeF16 }) };
    byPaths.set(key, g);
  }
  return g;
}
