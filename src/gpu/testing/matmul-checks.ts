// shaders/matmul.wgsl against its TypeScript twin (gemm) as plain async functions: every weight
// dtype, vec4 and scalar loads, bias, row maps, batches and each tile shape the device allows, on
// shapes that are not tile multiples; and the native f16 path (weights_f16.wgsl) against gemm's
// f16 twin and against exact products within its error bound. Runs under Vitest
// (src/gpu/matmul.test.ts) and in the self-contained GPU check.

import '../float16-polyfill';
import { gemm, type GemmParams } from '../../depass/gemm';
import type { DType } from '../../model/description';
import { readF32, uploadStorage } from '../buffers';
import * as ops from '../ops';
import { Step, StepPool } from '../step';
import { plainTilePlan, tileFits, TILES, type TileName } from '../tiles';
import { maxAbs, maxAbsDiff, randn, weightsIn } from './compare';
import { lacks, onPaths, type KernelCheck } from './check-helpers';
import type { TestGpu } from './gpu-env';

const DTYPES: DType[] = ['F32', 'F16', 'BF16'];

interface MatmulCase extends GemmParams {
  name: string;
  tiles?: TileName;
  dtype: DType;
  /** Element counts of X, W and Y buffers (defaults from R, N, K). */
  sizes?: [number, number, number];
  withBias?: boolean;
  withScale?: boolean;
}

/**
 * The largest error of one f16 product sum against exact products, per unit of sum_k |x_k w_k|:
 * rounding x to f16 and the product to f16 each err by at most 2^-11 relatively (round to nearest),
 * so a product errs by at most (1 + 2^-11)^2 - 1 < 2^-10 of itself; f32 sums add a little more.
 */
export const F16_PRODUCT_BOUND = 2 ** -10 + 1e-6;

interface Outcome {
  /** Largest |GPU - twin of its path|. */
  diff: number;
  /** Largest |twin|. */
  scale: number;
  /** Native f16 only: largest |GPU - exact products| / (alpha * sum |x w|) over the outputs. */
  boundRatio?: number;
}

async function matmulCase(gpu: TestGpu, c: MatmulCase, native: boolean): Promise<Outcome> {
  const dev = gpu.ctx.device;
  const [xs, ws, ys] = c.sizes ?? [c.R * c.K, c.N * c.K, c.R * c.N];
  const X = randn(xs, 1);
  const w = weightsIn(c.dtype, randn(ws, 2, 0.5));
  const Y0 = randn(ys, 3);
  const bias = c.withBias ? randn((c.bias0 ?? 0) + c.N, 4) : undefined;
  const rowScale = c.withScale ? randn(ys, 5) : undefined;
  const want = Y0.slice();
  gemm(X, w.f32, want, { ...c, bias, rowScale, f16Products: native });

  const bx = uploadStorage(dev, 'X', X);
  const bw = uploadStorage(dev, 'W', w.bytes);
  const by = uploadStorage(dev, 'Y', Y0);
  const bb = bias && uploadStorage(dev, 'bias', bias);
  const bs = rowScale && uploadStorage(dev, 'scale', rowScale);
  const br = c.rows && uploadStorage(dev, 'rows', c.rows);
  const step = new Step(gpu.pool, `matmul ${c.name}`);
  await ops.matmul(step, { ...c, X: bx, W: bw, wDtype: c.dtype, Y: by, bias: bb, rowScale: bs, rows: br, nativeF16: native });
  await step.submit();
  const got = await readF32(dev, by, 0, ys);
  for (const b of [bx, bw, by, bb, bs, br]) b?.destroy();
  const out: Outcome = { diff: maxAbsDiff(got, want), scale: maxAbs(want) };
  if (native) {
    // Against exact products: |error| <= F16_PRODUCT_BOUND * |alpha * scale| * sum |x w| per output.
    const exact = Y0.slice();
    gemm(X, w.f32, exact, { ...c, bias, rowScale });
    const abs = new Float32Array(ys);
    gemm(X.map(Math.abs), w.f32.map(Math.abs), abs, { ...c, alpha: Math.abs(c.alpha ?? 1), rowScale: rowScale?.map(Math.abs), accumulate: false });
    let worst = 0;
    for (let i = 0; i < ys; i++)
      if (abs[i]! > 0) worst = Math.max(worst, Math.abs(got[i]! - exact[i]!) / (F16_PRODUCT_BOUND * abs[i]! + 1e-6 * Math.abs(exact[i]!)));
    out.boundRatio = worst;
  }
  return out;
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
  return cases;
}

const TILE_NAMES = Object.keys(TILES) as TileName[];

/** A check of one case on one path: the twin of that path within f32 rounding; native f16 also within its bound. */
function checkOf(c: MatmulCase, native: boolean): KernelCheck {
  const path = native ? 'native f16' : 'expanded';
  return {
    name: `${c.name}${c.tiles ? `, ${c.tiles} tiles` : ''} (${path})`,
    unsupported: (gpu) =>
      (native ? lacks(gpu, 'shader-f16') : null) ??
      (c.tiles && !tileFits(c.tiles, gpu.ctx.device.limits) ? `the device's limits do not allow the ${c.tiles} tiles` : null),
    refused: async (gpu, t) => {
      if (native && lacks(gpu, 'shader-f16')) {
        const dev = gpu.ctx.device;
        t.throws(() => new StepPool(dev, gpu.kernels, { nativeF16: true }), /shader-f16/, 'a pool on native f16 products is refused');
        await t.rejects(gpu.kernels.get('matmul_f16'), /lacks shader-f16/, 'the f16 kernel is refused, naming the feature');
      }
      if (c.tiles && !tileFits(c.tiles, gpu.ctx.device.limits)) {
        const plan = plainTilePlan(gpu.ctx.adapter.isFallbackAdapter);
        t.ok(plan.large !== c.tiles || tileFits(plan.large, gpu.ctx.device.limits), `the plain plan does not choose the ${c.tiles} tiles`);
      }
    },
    run: async (gpu, t) => {
      const o = await matmulCase(onPaths(gpu, { subgroups: false, nativeF16: native }), c, native);
      t.ok(o.scale > 0, 'the product is not all zero');
      t.within('Y against the twin of its path', o.diff, 2e-6 * Math.max(1, o.scale) * Math.sqrt(c.K));
      if (o.boundRatio !== undefined) t.within('Y against exact products, per unit of the f16 bound', o.boundRatio, 1);
    },
  };
}

/**
 * shaders/matmul.wgsl against ops.gemm: every weight dtype, vec4 and scalar loads, bias, row maps,
 * batches, with the tile shape chosen by size and with each shape forced; F16 cases on the native
 * f16 path too.
 */
export const MATMUL_CHECKS: KernelCheck[] = matmulCases().flatMap((base) => {
  const all = [base, ...TILE_NAMES.map((tiles) => ({ ...base, tiles }))];
  return [...all.map((c) => checkOf(c, false)), ...(base.dtype === 'F16' ? all.map((c) => checkOf(c, true)) : [])];
});
