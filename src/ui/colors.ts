// Colour scales: one diverging, colour-blind-safe palette (PuOr: orange for negative, purple for
// positive) with a symmetric domain so zero is always the neutral middle, and a sequential one
// for non-negative quantities (attention weights, logits ranked within a row).

import { interpolatePuOr, interpolateBlues, rgb, scaleDiverging, scaleSequential } from 'd3';

export interface Diverging {
  (v: number): string;
  /** The |value| at the ends of the scale. */
  max: number;
  /** Ink that stays readable on the fill of value v. */
  ink(v: number): string;
}

/** WCAG relative luminance of a CSS colour. */
function luminance(color: string): number {
  const { r, g, b } = rgb(color);
  const lin = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/**
 * White or black text on a fill, whichever contrasts more: at least 4.58:1 on any fill (the
 * worst case sits where both are equal), so text on chart cells passes WCAG AA at every shade.
 */
export function inkOn(fill: string): string {
  const l = luminance(fill);
  return 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? '#fff' : '#000';
}

export function diverging(maxAbs: number): Diverging {
  const m = maxAbs > 0 && Number.isFinite(maxAbs) ? maxAbs : 1;
  // d3's PuOr runs purple → orange as t goes 0 → 1; reversed so positive is purple, like the bars.
  const s = scaleDiverging((t: number) => interpolatePuOr(1 - t))
    .domain([-m, 0, m])
    .clamp(true);
  const f = ((v: number) => s(v)) as Diverging;
  f.max = m;
  f.ink = (v: number) => inkOn(s(v));
  return f;
}

export function sequential(max: number): ((v: number) => string) & { ink(v: number): string } {
  const m = max > 0 && Number.isFinite(max) ? max : 1;
  const s = scaleSequential(interpolateBlues).domain([0, m]).clamp(true);
  const f = ((v: number) => s(v)) as ((v: number) => string) & { ink(v: number): string };
  f.ink = (v: number) => inkOn(s(v));
  return f;
}

/** Largest |x| over the values (0 for none). */
export function maxAbs(values: Iterable<number>): number {
  let m = 0;
  for (const v of values) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m;
}
