// Test set-up for GPU tests: one Node WebGPU device per test file, or null with a loud warning
// saying why (tests then skip). Which Vulkan driver runs is the environment's choice.

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
const loader = nodeShaderLoader();

export function testGpu(): Promise<TestGpu | null> {
  if (!env) {
    env = (async () => {
      try {
        const ctx = await createDevice(createNodeGpu());
        const kernels = kernelCache(ctx.device, loader);
        return { ctx, kernels, pool: new StepPool(ctx.device, kernels) };
      } catch (e) {
        console.warn(`\n*** WebGPU TESTS SKIPPED: no WebGPU adapter could be created (${(e as Error).message}) ***\n`);
        return null;
      }
    })();
  }
  return env;
}

export function describeAdapter(g: TestGpu): string {
  return `${adapterName(g.ctx.adapter)}, shader-f16 ${g.ctx.hasF16 ? 'yes' : 'no'}`;
}
