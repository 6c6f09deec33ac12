// The numbers encoder and decoder must compute identically (rests are coded against them): scores
// as signed bytes times an f32 row scale, logits and rests as fixed-point integers. Not the byte
// layout (binary.ts) and not the caps (caps.ts).

/** Scores are stored as integers in [-Q, Q] times a per-row scale: error <= max|row| / (2Q). */
export const Q = 127;
/** Logits and rests are stored as integer multiples of this (display shows three decimals). */
const LOGIT_STEP = 1e-3;
/** Version 2 rests: the original completeness residual, in these units. */
export const REST_STEP = 1e-6;

export const units = (x: number) => Math.round(x / LOGIT_STEP);
export const fromUnits = (u: number) => Number((u * LOGIT_STEP).toFixed(3));
/** The scale a row is stored with: f32, so encoder and decoder multiply by the same number. */
export const rowScale = (row: ArrayLike<number>) => {
  let max = 0;
  for (let i = 0; i < row.length; i++) max = Math.max(max, Math.abs(row[i]));
  return Math.fround(max > 0 ? max / Q : 0);
};
export const quant = (v: number, scale: number) => (scale > 0 ? Math.max(-Q, Math.min(Q, Math.round(v / scale))) : 0);

export const sumOf = (row: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < row.length; i++) s += row[i];
  return s;
};
