// Chip wrapping, with widths chosen so the breaks can be checked by hand.

import { describe, expect, it } from 'vitest';
import { fit, wrapChips } from './layout';

describe('wrapChips', () => {
  it('wraps before the chip that would overflow', () => {
    // padX 5 → chip widths 30, 50, 20, 90; gap 2; line width 100.
    const { boxes, height } = wrapChips([20, 40, 10, 80], 100, { gap: 2, lineHeight: 30, padX: 5 });
    // 0 → 32; 32 + 50 = 82 fits → 84; 84 + 20 = 104 wraps; 22 + 90 = 112 wraps again.
    expect(boxes.map((b) => [b.x, b.line])).toEqual([
      [0, 0],
      [32, 0],
      [0, 1],
      [0, 2],
    ]);
    expect(height).toBe(90);
  });

  it('gives an over-wide chip a line of its own and nothing for no chips', () => {
    const { boxes } = wrapChips([500, 10], 100, { gap: 2, lineHeight: 30, padX: 0 });
    expect(boxes.map((b) => b.line)).toEqual([0, 1]);
    expect(wrapChips([], 100, { gap: 2, lineHeight: 30, padX: 0 }).height).toBe(0);
  });
});

describe('fit', () => {
  it('keeps text that fits and shortens text that does not (estimate: 0.6 em per character)', () => {
    const font = '10px monospace';
    expect(fit('abcd', 24, font)).toBe('abcd'); // 4 × 6 = 24
    expect(fit('abcdefgh', 30, font)).toBe('abcd…'); // 5 × 6 = 30
  });
});
