// One WebGPU device session for an app or a command: the device, what the app shows of its
// adapter, and how to build a backend for a loaded checkpoint. The worker and the CLI both open
// the engine through here.

import type { Checkpoint } from '../model/checkpoint';
import type { Weight } from '../model/description';
import { weightStats } from '../model/weight-stats';
import { createDevice, type GpuContext, NoAdapterError } from './device';
import { GpuBackend } from './engine';
import type { ShaderLoader } from './kernels';
import { DEFAULT_BUDGET } from './engine';
import { checkMemory, estimateMemory, GpuMemoryError } from './memory';
import type { UploadProgress } from './weights';

/** The adapter as the app describes it (plain data: it crosses to the page). */
export interface AdapterInfo {
  description: string;
  vendor: string;
  architecture: string;
  isFallbackAdapter: boolean;
  hasF16: boolean;
}

export interface GpuSession {
  ctx: GpuContext;
  adapter: AdapterInfo;
  /** Streams the checkpoint's weights to the device (reporting bytes uploaded) and makes its engine. */
  createBackend(checkpoint: Checkpoint<Weight>, onProgress?: UploadProgress): Promise<GpuBackend>;
  /** Weights plus the working buffers of a T-token token-mode run. */
  estimateBytes(checkpoint: Checkpoint<Weight>, T: number): number;
  /** Why a T-token token-mode run would not fit this device (what to reduce), or null when it fits. */
  refusal(checkpoint: Checkpoint<Weight>, T: number): string | null;
  /** Resolves with a reason when the device is lost (or destroyed). */
  lost: Promise<string>;
  destroy(): void;
}

/** Opens a fresh session, or says why none can be opened. */
export type GpuProvider = () => Promise<GpuSession | { unavailable: string }>;

export async function openGpuSession(gpu: GPU, loadShader: ShaderLoader): Promise<GpuSession | { unavailable: string }> {
  let ctx: GpuContext;
  try {
    ctx = await createDevice(gpu);
  } catch (err) {
    if (err instanceof NoAdapterError) return { unavailable: err.message };
    return { unavailable: `the WebGPU device could not be created (${(err as Error).message})` };
  }
  const a = ctx.adapter;
  return {
    ctx,
    adapter: {
      description: a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' '),
      vendor: a.vendor,
      architecture: a.architecture,
      isFallbackAdapter: a.isFallbackAdapter,
      hasF16: ctx.hasF16,
    },
    createBackend: (c, onProgress) => GpuBackend.create(ctx, c.description, c.weights, loadShader, { onProgress }),
    estimateBytes: (c, T) =>
      weightStats(c.weights).bytes +
      estimateMemory(
        c.description,
        Math.min(T, c.description.max_position_embeddings),
        { kind: 'token' },
        {
          maxStorageBufferBindingSize: ctx.limits.maxStorageBufferBindingSize,
        },
      ).activations,
    refusal: (c, T) => {
      const limits = { maxStorageBufferBindingSize: ctx.limits.maxStorageBufferBindingSize, maxBufferSize: ctx.limits.maxBufferSize, budget: DEFAULT_BUDGET };
      try {
        checkMemory(
          estimateMemory(c.description, T, { kind: 'token' }, { maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize, budget: limits.budget }),
          limits,
          { kind: 'token' },
        );
        return null;
      } catch (e) {
        if (e instanceof GpuMemoryError) return e.message;
        throw e;
      }
    },
    lost: ctx.device.lost.then((info) => info.message || `device lost (${info.reason})`),
    destroy: () => ctx.device.destroy(),
  };
}
