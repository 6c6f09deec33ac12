// The head grid's geometry: cells within their bounds, the grid narrower beside a pattern, the
// pattern to the right of the grid and inside the panel.

import { describe, expect, it } from 'vitest';
import { GRID_LABEL_W, headGridLayout } from './head-grid-layout';

describe('headGridLayout', () => {
  it('fits 12 heads of 12 layers in a 560 px grid, alone', () => {
    const g = headGridLayout(900, 12, 12, 10, false);
    expect(g.cell).toBe(40); // floor((560 - 50) / 12) = 42, capped at 40
    expect(headGridLayout(400, 12, 12, 10, false).cell).toBe(29); // floor((400 - 50) / 12)
    expect(g.gridW).toBe(GRID_LABEL_W + 12 * g.cell);
  });

  it('narrows the grid beside a pinned head and keeps the pattern inside the panel', () => {
    const alone = headGridLayout(900, 8, 4, 20, false);
    const beside = headGridLayout(900, 8, 4, 20, true);
    expect(beside.cell).toBeLessThanOrEqual(alone.cell);
    expect(beside.pattern.left).toBeGreaterThan(beside.gridW);
    expect(beside.pattern.left + 20 * beside.pattern.cell + beside.pattern.strip).toBeLessThanOrEqual(900);
    expect(beside.height).toBeGreaterThanOrEqual(beside.pattern.top + 20 * beside.pattern.cell);
  });

  it('keeps cells readable for many heads and long prompts, dropping labels when cells are small', () => {
    const g = headGridLayout(600, 64, 30, 500, true);
    expect(g.cell).toBe(12);
    expect(g.pattern.cell).toBe(3);
    expect(g.pattern.labels).toBe(false);
    expect(headGridLayout(1400, 4, 2, 8, true).pattern.labels).toBe(true);
  });
});
