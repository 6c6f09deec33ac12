// The TypeScript twin of shaders/matmul.wgsl: one general strided, batched product that every
// matrix product of the reference engine runs, so the reference computes what the GPU computes.
// With `f16Products` it is the twin of the native 16-bit path (shaders/weights_f16.wgsl) instead.

import { f16ToF32, f32ToF16 } from '../model/dtype';

/** Strides, offsets and options of `gemm`; every field but R, N, K has a plain default. */
export interface GemmParams {
  R: number;
  N: number;
  K: number;
  /** Independent products; batch b shifts X, W and Y by b*xb, b*wb, b*yb. Default 1. */
  batch?: number;
  x0?: number;
  ldx?: number; // default K
  xb?: number;
  w0?: number;
  ldw?: number; // default K
  wb?: number;
  y0?: number;
  ldy?: number; // default N
  yb?: number;
  alpha?: number;
  /** Row r belongs to block floor(r / T) (components x positions); default R. */
  T?: number;
  bias?: Float32Array;
  bias0?: number;
  /** Add the bias only to rows of this block (the rest component); -1 (default) every row. */
  biasBlock?: number;
  /** Per-row scale, indexed by row r. */
  rowScale?: Float32Array;
  /** Row map: virtual row i is row rows[i]; rows not listed are neither read nor written. */
  rows?: Uint32Array;
  /** Add the product to Y instead of overwriting it. */
  accumulate?: boolean;
  /**
   * The native f16 path: each X element rounded to f16 (clamped to +-65504), each product of it and
   * a weight rounded to f16, the sum in f64 (the GPU sums in f32). W must hold f16 values.
   */
  f16Products?: boolean;
}

const F16_MAX = 65504;

/** x rounded to the nearest f16 (round to nearest even; beyond 65504: +-inf). */
export function f16Round(x: number): number {
  return f16ToF32(f32ToF16(x));
}

/**
 * General strided, batched product Y[b, r, n] = alpha * sum_k X[b, r, k] W[b, n, k] (* rowScale[r])
 * (+ bias[bias0 + n] on the chosen rows) (+ Y[b, r, n]), where element (b, r, k) of X is at
 * x0 + b*xb + r*ldx + k, (b, n, k) of W at w0 + b*wb + n*ldw + k and (b, r, n) of Y at
 * y0 + b*yb + r*ldy + n. Writes Y in place. The twin of shaders/matmul.wgsl.
 */
export function gemm(X: Float32Array, W: Float32Array, Y: Float32Array, p: GemmParams): void {
  const { R, N, K } = p;
  const batch = p.batch ?? 1;
  const ldx = p.ldx ?? K;
  const ldw = p.ldw ?? K;
  const ldy = p.ldy ?? N;
  const T = p.T ?? R;
  const alpha = p.alpha ?? 1;
  const biasBlock = p.biasBlock ?? -1;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < R; i++) {
      const r = p.rows ? p.rows[i] : i;
      const xo = (p.x0 ?? 0) + b * (p.xb ?? 0) + r * ldx;
      const yo = (p.y0 ?? 0) + b * (p.yb ?? 0) + r * ldy;
      const withBias = p.bias && (biasBlock < 0 || Math.floor(r / T) === biasBlock);
      for (let n = 0; n < N; n++) {
        const wo = (p.w0 ?? 0) + b * (p.wb ?? 0) + n * ldw;
        let acc = 0;
        if (p.f16Products) {
          for (let k = 0; k < K; k++) acc += f16Round(f16Round(Math.min(F16_MAX, Math.max(-F16_MAX, X[xo + k]))) * W[wo + k]);
        } else {
          for (let k = 0; k < K; k++) acc += X[xo + k] * W[wo + k];
        }
        let y = alpha * acc;
        if (p.rowScale) y *= p.rowScale[r];
        if (withBias) y += p.bias![(p.bias0 ?? 0) + n];
        if (p.accumulate) y += Y[yo + n];
        Y[yo + n] = y;
      }
    }
  }
}
