// Small helpers for GPU-vs-twin tests: seeded data, dtype round trips, closeness checks.

import type { DType } from '../../model/description';
import { bytesToFloat32, float32ToTensorBytes } from '../../model/dtype';
import { seededNormal } from '../../model/testing/random-model';

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = seededNormal(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * scale;
  return a;
}

/** Weights as a file would hold them (bytes in `dtype`) and the exact f32 values they stand for. */
export function weightsIn(dtype: DType, values: Float32Array): { bytes: Uint8Array; f32: Float32Array } {
  const bytes = float32ToTensorBytes(values, dtype);
  return { bytes, f32: bytesToFloat32(bytes, dtype) };
}

/** Largest |a - b| over the first n elements (n defaults to b.length). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, n = b.length): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
