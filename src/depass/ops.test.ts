// Hand-derived cases for the kernel twins: values worked out on paper or from published
// constants (GELU and SiLU at 1), not from the functions themselves; erf against a float64 erf
// computed here by its own series.

import { describe, expect, it } from 'vitest';
import { gemm } from './gemm';
import { ropeTable } from './rope';
import { attentionMix, attentionProbs, erf, geluErf, geluTanh, layerNormStats, mlpShare, rmsScale, rope, silu, topK } from './ops';

const f = (a: number[]) => new Float32Array(a);

/**
 * erf in float64 from erf(x) = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (1 * 3 * ... * (2n+1))
 * (Abramowitz and Stegun 7.1.6): every term is positive, so nothing cancels, and the sum runs
 * until a term no longer changes it.
 */
function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x); // 1 - erf(6) < 3e-17
  let term = ax;
  let sum = ax;
  for (let n = 1; term > 1e-17 * sum; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
}

describe('kernel twins', () => {
  it('gemm computes X W^T with scale, bias and accumulation', () => {
    const X = f([1, 2, 3, 4]); // [2, 2]
    const W = f([1, 0, 1, 1, 0, 2]); // [3, 2]
    const Y = new Float32Array(6);
    gemm(X, W, Y, { R: 2, N: 3, K: 2 });
    expect(Array.from(Y)).toEqual([1, 3, 4, 3, 7, 8]);
    const Z = f([0, 0, 10, 0, 0, 0]);
    gemm(X, W, Z, { R: 2, N: 3, K: 2, rowScale: f([2, -1]), bias: f([1, 1, 1]), accumulate: true });
    expect(Array.from(Z)).toEqual([3, 7, 19, -2, -6, -7]);
  });

  it('norm statistics', () => {
    expect(rmsScale(f([3, 4]), 1, 2, 0)[0]).toBeCloseTo(1 / Math.sqrt(12.5), 6);
    const { mean, s } = layerNormStats(f([1, 3, 5, 5]), 2, 2, 0);
    expect(Array.from(mean)).toEqual([2, 5]);
    expect(s[0]).toBeCloseTo(1, 6);
  });

  it('rope rotates the halves by position * inverse frequency', () => {
    const x = f([1, 0, 1, 0]); // T=2, one head, dh=2
    rope(x, 2, 1, 2, ropeTable(2, { theta: 10000, dim: 2, local_theta: null, scaling: { kind: 'none' } }));
    expect(Array.from(x.subarray(0, 2))).toEqual([1, 0]);
    expect(x[2]).toBeCloseTo(Math.cos(1), 6);
    expect(x[3]).toBeCloseTo(Math.sin(1), 6);
  });

  it('attention is causal and uniform when scores are equal', () => {
    const T = 3;
    const A = attentionProbs(new Float32Array(T * 2 * 4), new Float32Array(T * 1 * 4), T, 2, 1, 4);
    for (let h = 0; h < 2; h++) for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) expect(A[(h * T + i) * T + j]).toBeCloseTo(j <= i ? 1 / (i + 1) : 0, 6);
    // Mixing with uniform A averages the values seen so far; a component starting at 1 skips row 0.
    const v = f([2, 4, 6, 1, 1, 1]); // [M=2, T=3, Hkv=1, dh=1]
    const y = attentionMix(A, v, 2, T, 2, 1, 1, new Int32Array([0, 1]));
    expect(y[0 * 2]).toBeCloseTo(2, 6); // m0, t0, head 0
    expect(y[2 * 2 + 1]).toBeCloseTo(4, 6); // m0, t2, head 1: (2+4+6)/3
    expect(y[(3 + 0) * 2]).toBe(0); // m1 skipped at t0
    expect(y[(3 + 2) * 2]).toBeCloseTo(2 / 3, 6); // m1 at t2: (0 + 1 + 1) / 3 (its t0 value is never read)
  });

  it('activations match published values at 1', () => {
    expect(silu(1)).toBeCloseTo(0.7310585786, 8);
    expect(Math.abs(geluErf(1) - 0.8413447461)).toBeLessThan(0.75e-7 + 1e-10); // erf's bound
    expect(geluTanh(1)).toBeCloseTo(0.8411919906, 8);
    expect(Math.abs(geluErf(-3) - -0.0040496955)).toBeLessThan(3 * 0.75e-7 + 1e-10);
  });

  it('the float64 erf of these tests agrees with published values', () => {
    // erf at 0.5, 1, 2, 3 to 16 digits (tables of the error function).
    const published: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
    ];
    for (const [x, v] of published) {
      expect(Math.abs(erf64(x) - v), `erf64(${x})`).toBeLessThan(1e-15);
      expect(erf64(-x)).toBe(-erf64(x));
    }
    expect(erf64(0)).toBe(0);
  });

  it('erf, the formula shared with activation.wgsl, is within 1.5e-7 of float64 erf; GELU within 0.75e-7 |x|', () => {
    let worst = { e: 0, x: 0 };
    let worstGelu = { r: 0, x: 0 }; // error / (0.75e-7 |x|)
    for (let k = -80_000; k <= 80_000; k++) {
      const x = k / 10_000; // [-8, 8] in steps of 1e-4
      const e = Math.abs(erf(x) - erf64(x));
      if (!(e <= worst.e)) worst = { e, x };
      const exact = 0.5 * x * (1 + erf64(x / Math.SQRT2));
      const r = x === 0 ? 0 : Math.abs(geluErf(x) - exact) / (0.75e-7 * Math.abs(x));
      if (!(r <= worstGelu.r)) worstGelu = { r, x };
    }
    expect(worst.e, `largest erf error, at x = ${worst.x}`).toBeLessThan(1.5e-7);
    expect(worstGelu.r, `largest GELU error over its bound, at x = ${worstGelu.x}`).toBeLessThanOrEqual(1);
    // The bound is the formula's own, not a loose one: its error comes close to it.
    expect(worst.e).toBeGreaterThan(1e-7);
    expect(erf(0)).toBe(0);
  });

  it('shares an activation by softmax(g / tau) among participants', () => {
    // M=3 (rest = 2), T=2, J=1. Component 1 starts at position 1.
    const g = f([0, 0.1, 0.1, 5, 0, 0]);
    const a = f([2, 3]);
    const c = mlpShare(g, a, 3, 2, 1, new Int32Array([0, 1, 0]), 'softmax', 0.1);
    // t=0: components 0 and 2 take part with g = 0 and 0: halves.
    expect(c[0]).toBeCloseTo(1, 6);
    expect(c[4]).toBeCloseTo(1, 6);
    expect(c[2]).toBe(0);
    // t=1: g = 0.1, 5, 0 -> exp(1), exp(50), exp(0).
    const z = Math.exp(1) + Math.exp(50) + 1;
    expect(c[1]).toBeCloseTo((3 * Math.exp(1)) / z, 9);
    expect(c[3]).toBeCloseTo((3 * Math.exp(50)) / z, 6);
  });

  it('shares proportionally, guards a vanishing sum, and keeps BOS out after position 0', () => {
    const c = mlpShare(f([1, 3]), f([4]), 2, 1, 1, new Int32Array([0, 0]), 'proportional', 0.1);
    expect(Array.from(c)).toEqual([1, 3]);
    const even = mlpShare(f([1, -1]), f([4]), 2, 1, 1, new Int32Array([0, 0]), 'proportional', 0.1);
    expect(Array.from(even)).toEqual([2, 2]);
    // M=2, T=2, J=1, g = 7 everywhere: at t=0 both share; at t=1 the BOS rule leaves component 1 alone.
    const bos = mlpShare(f([7, 7, 7, 7]), f([4, 6]), 2, 2, 1, new Int32Array([0, 0]), 'softmax', 0.1, true);
    expect(Array.from(bos)).toEqual([2, 0, 2, 6]);
  });

  it('topK orders by value then index', () => {
    expect(topK([1, 5, 3, 5, 0], 3)).toEqual([1, 3, 2]);
  });
});
