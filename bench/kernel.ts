// Part 1: our matmul kernel against TensorFlow.js's WebGPU tf.matMul(a, b, false, true) on the
// same adapter, f32, shapes of the decomposed pass (rows = components x tokens, inner dims of small
// models). Both warmed up, timed to a GPU fence, alternating sample by sample; median reported.

import { createStorage, uploadStorage } from '../src/gpu/buffers';
import { matmul } from '../src/gpu/ops';
import { Step, type StepPool } from '../src/gpu/step';
import { tileFor, type TileName } from '../src/gpu/tiles';
import { randn } from '../src/gpu/testing/compare';
import { timeInterleaved, type Timing } from './stats';
import { TF_PROGRAMS, type TfLayout, type TfMatmul } from './tfjs';

export interface KernelShape {
  R: number;
  N: number;
  K: number;
}

export interface KernelRow extends KernelShape {
  flops: number;
  ours: { ms: number; cpuMs: number; gflops: number; tiles: TileName; samples: number[]; repeats: number };
  /** The fastest TF.js variant (program, layout of b) tried on this shape (null without TF.js). */
  tf: {
    ms: number;
    cpuMs: number;
    gflops: number;
    variant: string;
    /** The program TF.js chooses by itself here. */
    auto: string;
    samples: number[];
    repeats: number;
    /** Median ms of every variant tried. */
    tried: Record<string, number>;
    /** GFLOP/s of the fastest variant with b as [N, K], i.e. tf.matMul(a, b, false, true). */
    transposedGflops: number | null;
  } | null;
  /** TF.js time over ours (above 1: ours is faster). */
  ratio: number | null;
  /** The same by process CPU time (NaN in a page); on a software adapter, the work itself. */
  cpuRatio: number | null;
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

/** Milliseconds of the fastest TF.js timing whose name passes `keep` (null when none does). */
function fastestMs(t: Record<string, Timing>, keep: (name: string) => boolean): number | null {
  const ms = Object.entries(t)
    .filter(([n]) => n !== 'ours' && keep(n))
    .map(([, tm]) => tm.ms);
  return ms.length ? Math.min(...ms) : null;
}

export async function benchKernels(
  pool: StepPool,
  tf: TfMatmul | null,
  shapes: KernelShape[],
  opts: { reps: number; minSampleMs: number; tfPrograms: number[]; tfLayouts: TfLayout[]; log: (s: string) => void },
): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  for (const { R, N, K } of shapes) {
    const ours = oursOn(pool, { R, N, K });
    const flops = ours.flops;
    const tiles = tileFor(R, N, pool.profile.tiles);
    const runs: Record<string, (repeats: number) => Promise<void>> = { ours: ours.run };
    if (tf) {
      for (const layout of opts.tfLayouts) for (const p of opts.tfPrograms) runs[`tf ${TF_PROGRAMS[p]}, b ${layout}`] = tf.prepare(R, N, K, p, layout);
    }
    const t = await timeInterleaved(runs, { reps: opts.reps, minSampleMs: opts.minSampleMs });
    ours.dispose();
    tf?.dispose();
    const mine = t.ours!;
    const gflopsOf = (ms: number | null) => (ms === null ? null : flops / ms / 1e6);
    let best: [string, Timing] | null = null;
    for (const [name, tm] of Object.entries(t)) if (name !== 'ours' && (!best || tm.ms < best[1].ms)) best = [name, tm];
    const row: KernelRow = {
      R,
      N,
      K,
      flops,
      ours: { ms: mine.ms, cpuMs: mine.cpuMs, gflops: flops / mine.ms / 1e6, tiles, samples: mine.samples, repeats: mine.repeats },
      tf: best
        ? {
            ms: best[1].ms,
            cpuMs: best[1].cpuMs,
            gflops: flops / best[1].ms / 1e6,
            variant: best[0].slice(3),
            auto: tf!.autoProgram(R, N, K),
            samples: best[1].samples,
            repeats: best[1].repeats,
            tried: Object.fromEntries(
              Object.entries(t)
                .filter(([n]) => n !== 'ours')
                .map(([n, tm]) => [n.slice(3), tm.ms]),
            ),
            transposedGflops: gflopsOf(fastestMs(t, (n) => n.endsWith('b NK'))),
          }
        : null,
      ratio: best ? best[1].ms / mine.ms : null,
      cpuRatio: best ? best[1].cpuMs / mine.cpuMs : null,
    };
    rows.push(row);
    opts.log(
      `  ${R} x ${N} x ${K}: ours ${row.ours.gflops.toFixed(2)} GFLOP/s` +
        (row.tf ? `, TF.js ${row.tf.gflops.toFixed(2)} GFLOP/s (${row.tf.variant}), ratio ${row.ratio!.toFixed(2)}` : ''),
    );
  }
  return rows;
}
