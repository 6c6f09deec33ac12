// WebGPU device sessions for the engine host (host.ts GpuProvider), over the browser's GPU.

import { openGpuSession } from '../gpu/session';
import type { GpuProvider } from './host';

export function webGpuProvider(gpu: GPU, loadShader: (name: string) => string): GpuProvider {
  return {
    acquire: async () => {
      const s = await openGpuSession(gpu, loadShader);
      if ('unavailable' in s) return s;
      const a = s.ctx.adapter;
      return {
        adapter: {
          description: a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' '),
          vendor: a.vendor,
          architecture: a.architecture,
          isFallbackAdapter: a.isFallbackAdapter,
          hasF16: s.ctx.hasF16,
        },
        createBackend: s.createBackend,
        estimateBytes: s.estimateBytes,
        lost: s.lost,
        destroy: s.destroy,
      };
    },
  };
}
