// Colour scales: one diverging, colour-blind-safe palette (PuOr: orange for negative, purple for
// positive) with a symmetric domain so zero is always the neutral middle, and a sequential one
// for non-negative quantities (attention weights, logits ranked within a row).

import { interpolatePuOr, interpolateBlues, scaleDiverging, scaleSequential } from 'd3';

export interface Diverging {
  (v: number): string;
  /** The |value| at the ends of the scale. */
  max: number;
  /** Ink that stays readable on the fill of value v. */
  ink(v: number): string;
}

export function diverging(maxAbs: number): Diverging {
  const m = maxAbs > 0 && Number.isFinite(maxAbs) ? maxAbs : 1;
  // d3's PuOr runs purple → orange as t goes 0 → 1; reversed so positive is purple, like the bars.
  const s = scaleDiverging((t: number) => interpolatePuOr(1 - t))
    .domain([-m, 0, m])
    .clamp(true);
  const f = ((v: number) => s(v)) as Diverging;
  f.max = m;
  f.ink = (v: number) => (Math.abs(v) / m > 0.55 ? '#fff' : '#1b1b1f');
  return f;
}

export function sequential(max: number): ((v: number) => string) & { ink(v: number): string } {
  const m = max > 0 && Number.isFinite(max) ? max : 1;
  const s = scaleSequential(interpolateBlues).domain([0, m]).clamp(true);
  const f = ((v: number) => s(v)) as ((v: number) => string) & { ink(v: number): string };
  f.ink = (v: number) => (v / m > 0.6 ? '#fff' : '#1b1b1f');
  return f;
}

/** Largest |x| over the values (0 for none). */
export function maxAbs(values: Iterable<number>): number {
  let m = 0;
  for (const v of values) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m;
}
