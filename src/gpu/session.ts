// One WebGPU device session for an app or a command: the device, its adapter, and how to build a
// backend for a loaded checkpoint. The worker and the CLI both open the engine through here.

import type { Checkpoint } from '../model/checkpoint';
import { weightStats } from '../model/weight-stats';
import { createDevice, type GpuContext, NoAdapterError } from './device';
import { GpuBackend } from './engine';
import type { ShaderLoader } from './kernels';
import { estimateMemory } from './memory';

export interface GpuSession {
  ctx: GpuContext;
  createBackend(checkpoint: Checkpoint): Promise<GpuBackend>;
  /** Weights plus the working buffers of a T-token token-mode run. */
  estimateBytes(checkpoint: Checkpoint, T: number): number;
  /** Resolves with a reason when the device is lost (or destroyed). */
  lost: Promise<string>;
  destroy(): void;
}

export async function openGpuSession(gpu: GPU, loadShader: ShaderLoader): Promise<GpuSession | { unavailable: string }> {
  let ctx: GpuContext;
  try {
    ctx = await createDevice(gpu);
  } catch (err) {
    if (err instanceof NoAdapterError) return { unavailable: err.message };
    return { unavailable: `the WebGPU device could not be created (${(err as Error).message})` };
  }
  return {
    ctx,
    createBackend: (c) => GpuBackend.create(ctx, c.description, c.weights, loadShader),
    estimateBytes: (c, T) =>
      weightStats(c.weights).bytes +
      estimateMemory(c.description, Math.min(T, c.description.max_position_embeddings), { kind: 'token' }, {
        maxStorageBufferBindingSize: ctx.limits.maxStorageBufferBindingSize,
      }).activations,
    lost: ctx.device.lost.then((info) => info.message || `device lost (${info.reason})`),
    destroy: () => ctx.device.destroy(),
  };
}
