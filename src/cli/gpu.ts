// Opens the WebGPU engine in Node through Dawn (the npm package `webgpu`).
import type { AttributionBackend } from '../depass/backend';
import type { Checkpoint } from '../model/checkpoint';

export async function openNodeGpuBackend(_c: Checkpoint): Promise<{ backend: AttributionBackend; adapter: string } | { unavailable: string }> {
  return { unavailable: 'the WebGPU engine is not connected yet' };
}
