// shaders/matmul.wgsl against its TypeScript twin (gemm) as plain async functions: every weight
// dtype, vec4 and scalar loads, bias, row maps, batches and each tile shape, on shapes that are
// not tile multiples. Runs under Vitest (src/gpu/matmul.test.ts) and in the self-contained GPU check.

import '../float16-polyfill';
import { gemm, type GemmParams } from '../../depass/gemm';
import type { DType } from '../../model/description';
import { readF32, uploadStorage } from '../buffers';
import * as ops from '../ops';
import { Step } from '../step';
import { maxAbs, maxAbsDiff, randn, weightsIn } from './compare';
import type { TestGpu } from './gpu-env';
import type { KernelCheck } from './kernel-checks';

const DTYPES: DType[] = ['F32', 'F16', 'BF16'];

interface MatmulCase extends GemmParams {
  name: string;
  tiles?: 'small' | 'large' | 'thin' | 'thin32';
  dtype: DType;
  /** Element counts of X, W and Y buffers (defaults from R, N, K). */
  sizes?: [number, number, number];
  withBias?: boolean;
  withScale?: boolean;
}

async function matmulCase(gpu: TestGpu, c: MatmulCase): Promise<{ diff: number; scale: number }> {
  const dev = gpu.ctx.device;
  const [xs, ws, ys] = c.sizes ?? [c.R * c.K, c.N * c.K, c.R * c.N];
  const X = randn(xs, 1);
  const w = weightsIn(c.dtype, randn(ws, 2, 0.5));
  const Y0 = randn(ys, 3);
  const bias = c.withBias ? randn((c.bias0 ?? 0) + c.N, 4) : undefined;
  const rowScale = c.withScale ? randn(ys, 5) : undefined;
  const want = Y0.slice();
  gemm(X, w.f32, want, { ...c, bias, rowScale });

  const bx = uploadStorage(dev, 'X', X);
  const bw = uploadStorage(dev, 'W', w.bytes);
  const by = uploadStorage(dev, 'Y', Y0);
  const bb = bias && uploadStorage(dev, 'bias', bias);
  const bs = rowScale && uploadStorage(dev, 'scale', rowScale);
  const br = c.rows && uploadStorage(dev, 'rows', c.rows);
  const step = new Step(gpu.pool, `matmul ${c.name}`);
  await ops.matmul(step, { ...c, X: bx, W: bw, wDtype: c.dtype, Y: by, bias: bb, rowScale: bs, rows: br });
  await step.submit();
  const got = await readF32(dev, by, 0, ys);
  for (const b of [bx, bw, by, bb, bs, br]) b?.destroy();
  return { diff: maxAbsDiff(got, want), scale: maxAbs(want) };
}

function matmulCases(): MatmulCase[] {
  const cases: MatmulCase[] = [];
  for (const dtype of DTYPES) {
    cases.push(
      { name: `${dtype} 1 row`, dtype, R: 1, N: 37, K: 20 },
      { name: `${dtype} odd K scalar path`, dtype, R: 67, N: 70, K: 23, withBias: true },
      { name: `${dtype} vec4 path, several tiles`, dtype, R: 130, N: 65, K: 36, withBias: true, withScale: true },
      { name: `${dtype} several large tiles`, dtype, R: 260, N: 131, K: 20 },
      { name: `${dtype} several thin tiles`, dtype, R: 37, N: 530, K: 44, withBias: true },
      {
        name: `${dtype} odd offsets, strides, alpha, accumulate`,
        dtype,
        R: 5,
        N: 9,
        K: 7,
        x0: 3,
        ldx: 11,
        w0: 1,
        ldw: 9,
        y0: 2,
        ldy: 13,
        alpha: -0.5,
        accumulate: true,
        sizes: [3 + 5 * 11, 1 + 9 * 9, 2 + 5 * 13],
      },
    );
  }
  cases.push(
    {
      name: 'row map with bias on one block only',
      dtype: 'F16',
      R: 6,
      N: 10,
      K: 8,
      T: 4,
      rows: new Uint32Array([1, 2, 3, 6, 7, 9]),
      withBias: true,
      bias0: 3,
      biasBlock: 1,
      sizes: [12 * 8, 10 * 8, 12 * 10],
    },
    {
      name: 'batched K = 1 outer products (neuron writes)',
      dtype: 'BF16',
      R: 5,
      N: 12,
      K: 1,
      batch: 3,
      x0: 2,
      ldx: 9,
      xb: 1,
      w0: 2,
      ldw: 9,
      wb: 1,
      yb: 60,
      sizes: [45, 108, 180],
    },
    {
      name: 'batched per-head slices (head outputs)',
      dtype: 'F32',
      R: 7,
      N: 16,
      K: 4,
      batch: 4,
      ldx: 16,
      xb: 4,
      ldw: 16,
      wb: 4,
      yb: 7 * 16,
      sizes: [7 * 16, 16 * 16, 4 * 7 * 16],
    },
  );
  // The same cases on the large tiles (128 x 128, 8 x 8 per invocation) and the thin ones
  // (16 or 32 x 256, 64 x 4 invocations), chosen by size otherwise.
  for (const c of [...cases]) {
    cases.push(
      { ...c, name: `${c.name}, large tiles`, tiles: 'large' },
      { ...c, name: `${c.name}, thin tiles`, tiles: 'thin' },
      { ...c, name: `${c.name}, thin32 tiles`, tiles: 'thin32' },
    );
  }
  return cases;
}

/** shaders/matmul.wgsl against ops.gemm: every weight dtype, vec4 and scalar loads, bias, row maps, batches, each tile shape. */
export const MATMUL_CHECKS: KernelCheck[] = matmulCases().map((c) => ({
  name: c.name,
  run: async (gpu, t) => {
    const { diff, scale } = await matmulCase(gpu, c);
    t.ok(scale > 0, 'the product is not all zero');
    t.within('Y', diff, 2e-6 * Math.max(1, scale) * Math.sqrt(c.K));
  },
}));
