// Number and token formatting.

import { describe, expect, it } from 'vitest';
import { bytes, compact, count, num, percent, signed, tokenLabel } from './format';

describe('format', () => {
  it('numbers: four significant digits, exponent for extremes', () => {
    expect(num(17.7994)).toBe('17.8');
    expect(num(0.123456)).toBe('0.1235');
    expect(num(0)).toBe('0');
    expect(num(2e-7, 2)).toBe('2e-7');
    expect(num(123456)).toBe('1.23e+5');
    expect(signed(-1.5)).toBe('−1.5');
    expect(signed(2)).toBe('+2');
    expect(percent(0.4213)).toBe('42%');
    expect(percent(0.0421)).toBe('4.2%');
    expect(percent(0)).toBe('0%');
    expect(compact(-0.0572)).toBe('−0.06');
    expect(compact(-0.001)).toBe('0.00');
    expect(compact(12.34)).toBe('12.3');
    expect(compact(-148.2)).toBe('−148');
  });

  it('sizes', () => {
    expect(bytes(1016 * 1024)).toBe('1016 KB');
    expect(bytes(1536)).toBe('1.5 KB');
    expect(count(260_000)).toBe('260.0 K');
    expect(count(124_439_808)).toBe('124.44 M');
  });

  it('tokens: whitespace and control characters become visible', () => {
    expect(tokenLabel(' the')).toBe('·the');
    expect(tokenLabel('\n\t')).toBe('↵⇥');
    expect(tokenLabel('\u0001')).toBe('\\x01');
    expect(tokenLabel('')).toBe('∅');
  });
});
