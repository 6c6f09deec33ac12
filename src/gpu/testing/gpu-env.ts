// Test set-up for GPU tests: one Node WebGPU device per test file, or null and the reason (tests
// then skip loudly, or fail under CI=true). Which Vulkan driver runs is the environment's choice.

import { skipWithout } from '../../testing/requirements';
import { createDevice, adapterName, type GpuContext } from '../device';
import { kernelCache, type KernelCache } from '../kernels';
import { createNodeGpu, nodeShaderLoader } from '../node';
import { StepPool } from '../step';

export interface TestGpu {
  ctx: GpuContext;
  kernels: KernelCache;
  pool: StepPool;
}

let env: Promise<TestGpu | null> | null = null;
let whyNone = '';
const loader = nodeShaderLoader();

export function testGpu(): Promise<TestGpu | null> {
  if (!env) {
    env = (async () => {
      try {
        const ctx = await createDevice(createNodeGpu());
        const kernels = kernelCache(ctx.device, loader);
        return { ctx, kernels, pool: new StepPool(ctx.device, kernels) };
      } catch (e) {
        whyNone = (e as Error).message;
        return null;
      }
    })();
  }
  return env;
}

export function describeAdapter(g: TestGpu): string {
  return `${adapterName(g.ctx.adapter)}, shader-f16 ${g.ctx.hasF16 ? 'yes' : 'no'}`;
}

/** skipWithout for a GPU suite: true (skip) when testGpu() found no adapter, saying why. */
export function skipWithoutGpu(g: TestGpu | null): boolean {
  return skipWithout(g !== null, `a WebGPU adapter (${whyNone})`);
}
