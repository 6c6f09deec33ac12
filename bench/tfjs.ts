// TensorFlow.js's WebGPU backend as the matmul baseline, on the same GPU object as our engine (its
// own device on the same adapter): in Node the caller passes Dawn's GPU, which becomes
// navigator.gpu before TF.js's backend module loads (it looks there); in a page navigator.gpu is
// already there. Not used by the engine.

export interface TfMatmul {
  /** Adapter as TF.js sees it (vendor / architecture). */
  adapter: string;
  /** Program TF.js picks for a shape when left to itself (its own heuristic). */
  autoProgram(R: number, N: number, K: number): string;
  /**
   * A timer of `repeats` products Y[R, N] = a[R, K] b^T that returns once the GPU has finished them.
   * Layout 'NK': b is [N, K] as checkpoints store it, tf.matMul(a, b, false, true); 'KN': b was
   * transposed once beforehand (not timed), tf.matMul(a, b), which TF.js runs with vec4 loads
   * (its packed program has no vec4 path for a transposed b).
   */
  prepare(R: number, N: number, K: number, program: number, layout: TfLayout): (repeats: number) => Promise<void>;
  dispose(): void;
}

export type TfLayout = 'NK' | 'KN';

/** TF.js MatMulProgramType values (webgpu_util.ts); -1 lets TF.js choose. */
export const TF_PROGRAMS: Record<number, string> = { [-1]: 'auto', 0: 'reduce', 1: 'split-K', 2: 'small-output', 3: 'packed' };

interface TfWebGpuBackend {
  device: GPUDevice;
  adapterInfo: { vendor?: string; architecture?: string };
  thresholdToIncreaseWorkgroups: number;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

export async function loadTfMatmul(gpu?: GPU): Promise<TfMatmul> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (!nav?.gpu) {
    if (!gpu) throw new Error('no navigator.gpu and no GPU given');
    Object.defineProperty(globalThis, 'navigator', { value: { ...(nav ?? {}), gpu, userAgent: 'node' }, configurable: true, writable: true });
  }
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not start its WebGPU backend');
  await tf.ready();
  tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', -1);
  const be = tf.backend() as unknown as TfWebGpuBackend;
  const live: { dispose(): void }[] = [];
  return {
    adapter: [be.adapterInfo.vendor, be.adapterInfo.architecture].filter(Boolean).join(' '),
    // Mirrors the choice in TF.js's BatchMatMul_impl for batch 1 (reported, not relied on).
    autoProgram(R, N, K) {
      const wg = Math.ceil(R / 32) * Math.ceil(N / 32);
      const few = wg <= be.thresholdToIncreaseWorkgroups || (R <= 8 && wg <= 2 * be.thresholdToIncreaseWorkgroups);
      if (!few) return 'packed';
      return R * N <= 128 ? 'reduce' : K >= 2000 ? 'split-K' : 'small-output';
    },
    prepare(R, N, K, program, layout) {
      const a = tf.randomNormal([R, K], 0, 1, 'float32', 1); // [R, K]
      const b = layout === 'NK' ? tf.randomNormal([N, K], 0, 1 / Math.sqrt(K), 'float32', 2) : tf.randomNormal([K, N], 0, 1 / Math.sqrt(K), 'float32', 2); // [N, K] or [K, N]
      live.push(a, b);
      return async (repeats) => {
        tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', program);
        const outs = [];
        for (let i = 0; i < repeats; i++) outs.push(layout === 'NK' ? tf.matMul(a, b, false, true) : tf.matMul(a, b)); // [R, N]
        // TF.js defers submits (15 dispatches a batch); flush what is recorded, then fence.
        be.endComputePassEncoder();
        if (be.commandEncoder) be.submitQueue();
        await be.device.queue.onSubmittedWorkDone();
        for (const o of outs) o.dispose();
        tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', -1);
      };
    },
    dispose() {
      for (const t of live) t.dispose();
      live.length = 0;
    },
  };
}
