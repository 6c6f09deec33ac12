// Part 1: our matmul kernel against TensorFlow.js's WebGPU tf.matMul(a, b, false, true) on the
// same adapter, f32, shapes of the decomposed pass (rows = components x tokens, inner dims of small
// models). Both warmed up, timed to a GPU fence, alternating sample by sample; median reported.

import { createStorage, matmul, Step, type StepPool, uploadStorage } from '../src/gpu/index';
import { tileShape, type TileShape } from '../src/gpu/ops';
import { randn } from '../src/gpu/testing/compare';
import { timeInterleaved, type Timing } from './stats';
import { TF_PROGRAMS, type TfMatmul } from './tfjs';

export interface KernelShape {
  R: number;
  N: number;
  K: number;
}

export interface KernelRow extends KernelShape {
  flops: number;
  ours: { ms: number; gflops: number; tiles: TileShape; samples: number[]; repeats: number };
  /** The fastest TF.js program tried on this shape (null without TF.js). */
  tf: { ms: number; gflops: number; program: string; auto: string; samples: number[]; repeats: number; tried: Record<string, number> } | null;
  /** TF.js time over ours (above 1: ours is faster). */
  ratio: number | null;
}

/** Our matmul on one shape, ready to time: `run(repeats)` returns once the GPU has finished. */
export function oursOn(pool: StepPool, { R, N, K }: KernelShape): { run: (repeats: number) => Promise<void>; flops: number; dispose(): void } {
  const dev = pool.device;
  const X = uploadStorage(dev, 'bench X', randn(R * K, 1)); // [R, K]
  const W = uploadStorage(dev, 'bench W', randn(N * K, 2, 1 / Math.sqrt(K))); // [N, K]
  const Y = createStorage(dev, 'bench Y', R * N * 4); // [R, N]
  return {
    flops: 2 * R * N * K,
    run: async (repeats) => {
      const step = new Step(pool, `bench matmul ${R}x${N}x${K}`);
      for (let i = 0; i < repeats; i++) await matmul(step, { X, W, wDtype: 'F32', Y, R, N, K });
      await step.submit(true);
    },
    dispose() {
      X.destroy();
      W.destroy();
      Y.destroy();
    },
  };
}

export async function benchKernels(
  pool: StepPool,
  tf: TfMatmul | null,
  shapes: KernelShape[],
  opts: { reps: number; minSampleMs: number; tfPrograms: number[]; log: (s: string) => void },
): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  for (const { R, N, K } of shapes) {
    const ours = oursOn(pool, { R, N, K });
    const flops = ours.flops;
    const tiles = tileShape(R, N, pool.largeTileOutputs);
    const runs: Record<string, (repeats: number) => Promise<void>> = { ours: ours.run };
    if (tf) for (const p of opts.tfPrograms) runs[`tf ${TF_PROGRAMS[p]}`] = tf.prepare(R, N, K, p);
    const t = await timeInterleaved(runs, { reps: opts.reps, minSampleMs: opts.minSampleMs });
    ours.dispose();
    tf?.dispose();
    const mine = t.ours!;
    let best: [string, Timing] | null = null;
    for (const [name, tm] of Object.entries(t)) if (name !== 'ours' && (!best || tm.ms < best[1].ms)) best = [name, tm];
    const row: KernelRow = {
      R,
      N,
      K,
      flops,
      ours: { ms: mine.ms, gflops: flops / mine.ms / 1e6, tiles, samples: mine.samples, repeats: mine.repeats },
      tf: best
        ? {
            ms: best[1].ms,
            gflops: flops / best[1].ms / 1e6,
            program: best[0].slice(3),
            auto: tf!.autoProgram(R, N, K),
            samples: best[1].samples,
            repeats: best[1].repeats,
            tried: Object.fromEntries(Object.entries(t).filter(([n]) => n !== 'ours').map(([n, tm]) => [n.slice(3), tm.ms])),
          }
        : null,
      ratio: best ? best[1].ms / mine.ms : null,
    };
    rows.push(row);
    opts.log(
      `  ${R} x ${N} x ${K}: ours ${row.ours.gflops.toFixed(2)} GFLOP/s` +
        (row.tf ? `, TF.js ${row.tf.gflops.toFixed(2)} GFLOP/s (${row.tf.program}), ratio ${row.ratio!.toFixed(2)}` : ''),
    );
  }
  return rows;
}
