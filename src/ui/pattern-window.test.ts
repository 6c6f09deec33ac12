import { describe, expect, it } from 'vitest';
import { attentionBefore, patternBlock, patternWindow } from './pattern-window';

describe('pattern window', () => {
  it('is the whole pattern for a short prompt and a diagonal block of W for a long one', () => {
    expect(patternWindow(50, 49, 96)).toEqual({ from: 0, n: 50 });
    expect(patternWindow(1000, 0, 96)).toEqual({ from: 0, n: 96 });
    expect(patternWindow(1000, 95, 96)).toEqual({ from: 0, n: 96 });
    expect(patternWindow(1000, 96, 96)).toEqual({ from: 96, n: 96 });
    // The last block is shorter: 1000 = 10 x 96 + 40.
    expect(patternWindow(1000, 999, 96)).toEqual({ from: 960, n: 40 });
  });

  it('cuts the block out of the full pattern and sums the attention before it', () => {
    const T = 5;
    // A[q][k] = 10 q + k, so every entry names its place.
    const A = Float32Array.from({ length: T * T }, (_, i) => 10 * Math.floor(i / T) + (i % T));
    const w = patternWindow(T, 3, 2); // queries and keys 2 and 3
    expect(w).toEqual({ from: 2, n: 2 });
    expect(Array.from(patternBlock(A, T, w))).toEqual([22, 23, 32, 33]);
    expect(attentionBefore(A, T, 3, w)).toBe(30 + 31);
    expect(patternBlock(A, T, { from: 0, n: T })).toBe(A);
  });
});
