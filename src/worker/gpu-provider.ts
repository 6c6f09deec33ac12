// WebGPU device sessions for the engine host (see host.ts GpuProvider).
import type { GpuProvider } from './host';

export function webGpuProvider(_gpu: GPU, _loadShader: (name: string) => string): GpuProvider {
  return { acquire: async () => ({ unavailable: 'the WebGPU engine is not connected yet' }) };
}
