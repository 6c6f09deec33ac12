// Test set-up for GPU tests: Node WebGPU devices shared by a test file, or null and the reason
// (tests then skip loudly, or fail under CI=true). Which Vulkan driver runs is the environment's
// choice. Up to three devices, one per set of kernel paths (see testGpu), each with the plain tile
// plan, so that a test's kernels do not depend on a calibration's timing.

import { skipWithout } from '../../testing/requirements';
import { createDevice, adapterName, type GpuContext } from '../device';
import { kernelCache, type KernelCache } from '../kernels';
import { createNodeGpu, nodeShaderLoader } from '../node';
import { describeProfile, plainProfile, type DeviceProfile } from '../profile';
import { StepPool } from '../step';
import { setDeviceProfile } from '../tuning';

export interface TestGpu {
  ctx: GpuContext;
  kernels: KernelCache;
  /** A pool that expands F16 weights and reduces through workgroup memory (checks pick their paths). */
  pool: StepPool;
  /** What engines made on this device use. */
  profile: DeviceProfile;
}

type Paths = 'exact' | 'offered' | 'fallback';
const envs = new Map<Paths, Promise<TestGpu | null>>();
let whyNone = '';
const loader = nodeShaderLoader();

/**
 * A test device. 'exact' (default): the device has every optional feature the adapter offers and
 * its engines reduce through subgroups where offered but expand F16 weights to f32, so that they
 * match independent references as tightly as the f32 reference engine does. 'offered': its engines
 * also multiply F16 weights as f16 where offered (what the engine does where a calibration finds
 * it faster).
 * 'fallback': no shader-f16 and no subgroups (the paths a device without them takes).
 */
export function testGpu(paths: Paths = 'exact'): Promise<TestGpu | null> {
  let env = envs.get(paths);
  if (!env) {
    env = (async () => {
      try {
        const fallback = paths === 'fallback';
        const ctx = await createDevice(createNodeGpu(), { disableF16: fallback, disableSubgroups: fallback });
        const kernels = kernelCache(ctx.device, loader);
        const plain = plainProfile(ctx.device, ctx.adapter.isFallbackAdapter);
        const profile = paths === 'offered' ? { ...plain, nativeF16: ctx.device.features.has('shader-f16') } : plain;
        setDeviceProfile(ctx.device, profile);
        return { ctx, kernels, pool: new StepPool(ctx.device, kernels), profile };
      } catch (e) {
        whyNone = (e as Error).message;
        return null;
      }
    })();
    envs.set(paths, env);
  }
  return env;
}

export function describeAdapter(g: TestGpu): string {
  return `${adapterName(g.ctx.adapter)}; ${describeProfile(g.profile)}`;
}

/** skipWithout for a GPU suite: true (skip) when testGpu() found no adapter, saying why. */
export function skipWithoutGpu(g: TestGpu | null): boolean {
  return skipWithout(g !== null, `a WebGPU adapter (${whyNone})`);
}
