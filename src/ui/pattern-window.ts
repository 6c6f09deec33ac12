// The block of an attention pattern that the head view draws: all of it for a short prompt; for a
// long one, the W x W block of queries and keys on the diagonal that holds the selected position
// (blocks of W, so that the block stays put while the selection moves inside it), with the share
// of each query's attention that goes to keys before the block. Pure, for the tests.

/** Longest pattern drawn whole: at the 3 px the cells need to stay visible, 96 fill the 320 px allowed. */
export const PATTERN_WINDOW = 96;

export interface PatternWindow {
  /** First query and key shown. */
  from: number;
  /** Queries (and keys) shown. */
  n: number;
}

export function patternWindow(T: number, position: number, W = PATTERN_WINDOW): PatternWindow {
  if (T <= W) return { from: 0, n: T };
  const from = Math.min(Math.floor(Math.max(0, position) / W) * W, T - 1);
  return { from, n: Math.min(W, T - from) };
}

/** The window's block of A [T, T] (row: query, column: key), as an n x n pattern. */
export function patternBlock(A: Float32Array, T: number, w: PatternWindow): Float32Array {
  if (w.from === 0 && w.n === T) return A;
  const out = new Float32Array(w.n * w.n);
  for (let q = 0; q < w.n; q++) out.set(A.subarray((w.from + q) * T + w.from, (w.from + q) * T + w.from + w.n), q * w.n);
  return out;
}

/** How much of query q's attention goes to keys before the window (0 when the window starts at 0). */
export function attentionBefore(A: Float32Array, T: number, q: number, w: PatternWindow): number {
  let s = 0;
  for (let k = 0; k < w.from; k++) s += A[q * T + k];
  return s;
}
