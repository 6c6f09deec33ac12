// The diverging scale is symmetric around zero and runs orange (−) to purple (+), whatever the
// data's range; checked against d3's PuOr end and middle colours.

import { interpolatePuOr, rgb } from 'd3';
import { describe, expect, it } from 'vitest';
import { diverging, maxAbs, sequential } from './colors';

describe('diverging', () => {
  it('zero is the neutral middle; ±max are the ends (positive purple)', () => {
    const s = diverging(maxAbs([-0.5, 2, 1]));
    expect(s.max).toBe(2);
    expect(rgb(s(0)).formatHex()).toBe(rgb(interpolatePuOr(0.5)).formatHex());
    expect(rgb(s(2)).formatHex()).toBe(rgb(interpolatePuOr(0)).formatHex());
    expect(rgb(s(-2)).formatHex()).toBe(rgb(interpolatePuOr(1)).formatHex());
    expect(rgb(s(99)).formatHex()).toBe(rgb(s(2)).formatHex());
    // Purple has more blue than red; orange the reverse.
    expect(rgb(s(1.5)).b).toBeGreaterThan(rgb(s(1.5)).r);
    expect(rgb(s(-1.5)).r).toBeGreaterThan(rgb(s(-1.5)).b);
  });

  it('an all-zero input still gives a usable scale', () => {
    const s = diverging(maxAbs([0, 0, NaN]));
    expect(s.max).toBe(1);
    expect(s.ink(0)).toBe('#000');
    expect(s.ink(0.9)).toBe('#fff');
  });
});

/** WCAG 2 contrast ratio of two CSS colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const { r, g, b: bl } = rgb(c);
    const lin = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(bl);
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

describe('ink on the scales’ fills', () => {
  // Text drawn on chart cells (token chips, head cells, logit lens) takes the scale's ink; axe
  // cannot measure text over SVG shapes, so the contrast is checked here, at every shade.
  it('reaches 4.5:1 on every fill of the diverging and the sequential scale', () => {
    const d = diverging(1);
    const q = sequential(1);
    let worst = Infinity;
    for (let k = 0; k <= 400; k++) {
      const v = -1 + k / 200;
      worst = Math.min(worst, contrast(d.ink(v), d(v)));
      if (v >= 0) worst = Math.min(worst, contrast(q.ink(v), q(v)));
    }
    expect(worst).toBeGreaterThanOrEqual(4.5);
  });
});
