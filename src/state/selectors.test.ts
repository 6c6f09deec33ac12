// Which result and target index the views show for a position.

import { describe, expect, it } from 'vitest';
import { focusOf, shownPosition, tokenCompleteness } from './selectors';
import { handResult } from './testing';

describe('focus', () => {
  it('defaults to the last position and clamps the selection', () => {
    const r = handResult();
    expect(shownPosition(r, null)).toBe(3);
    expect(shownPosition(r, 7)).toBe(3);
    expect(shownPosition(r, -2)).toBe(0);
    expect(shownPosition(null, 1)).toBeNull();
  });

  it('uses a target re-run only at its own position and prompt', () => {
    const r = handResult();
    const o = handResult();
    o.targets = [{ position: 1, id: 21, contrast_id: null, logit: 2 }];
    o.token!.scores = [[0.5, 1.5, 0, 0]];
    o.token!.rest = [0];
    const override = [{ position: 1, target: 21, contrast: null, result: o }];
    expect(focusOf(r, override, 1)).toMatchObject({ i: 0, custom: true, target: { id: 21 } });
    expect(focusOf(r, override, 2)).toMatchObject({ i: 2, custom: false, target: { id: 12 } });
    expect(focusOf(handResult('other'), override, 1)?.custom).toBe(false);
  });

  it('completeness: Σ token scores + rest against the logit', () => {
    const c = tokenCompleteness(focusOf(handResult(), null, 3)!)!;
    expect(c.sum).toBeCloseTo(4, 12);
    expect(c.logit).toBe(4);
    expect(c.error).toBeLessThan(1e-12);
  });

  it('completeness per word: the words’ sums add up to the logit as the tokens do', () => {
    // Scores at 3: 1, 2, −1, 1.5, rest 0.5; words {0}, {1, 2}, {3} sum to 1, 1, 1.5.
    const c = tokenCompleteness(focusOf(handResult(), null, 3)!, [[0], [1, 2], [3]])!;
    expect(c.sum).toBe(4);
    expect(c.error).toBe(0);
  });
});
