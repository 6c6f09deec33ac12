// Opens the WebGPU engine in Node through Dawn (the npm package `webgpu`) for the CLI.

import type { AttributionBackend } from '../depass/backend';
import { adapterName } from '../gpu/device';
import { createNodeGpu, nodeShaderLoader } from '../gpu/node';
import { openGpuSession } from '../gpu/session';
import type { Checkpoint } from '../model/checkpoint';
import type { Weight } from '../model/description';

export async function openNodeGpuBackend(
  c: Checkpoint<Weight>,
): Promise<{ backend: AttributionBackend & { destroy(): void }; adapter: string } | { unavailable: string }> {
  let gpu: GPU;
  try {
    gpu = createNodeGpu();
  } catch (err) {
    return { unavailable: `WebGPU for Node could not start (${(err as Error).message.split('\n')[0]})` };
  }
  const s = await openGpuSession(gpu, nodeShaderLoader());
  if ('unavailable' in s) return s;
  return { backend: await s.createBackend(c), adapter: adapterName(s.ctx.adapter) };
}
