// The diverging scale is symmetric around zero and runs orange (−) to purple (+), whatever the
// data's range; checked against d3's PuOr end and middle colours.

import { interpolatePuOr, rgb } from 'd3';
import { describe, expect, it } from 'vitest';
import { diverging, maxAbs } from './colors';

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
    expect(s.ink(0)).toBe('#1b1b1f');
    expect(s.ink(0.9)).toBe('#fff');
  });
});
