// Rankings for "ablate the top k", on the hand-made result (values worked out by hand).

import { describe, expect, it } from 'vitest';
import { focusOf } from './selectors';
import { ablateSources, planAblation } from './ranking';
import { handResult } from './testing';

const f3 = () => focusOf(handResult(), null, 3)!;

describe('planAblation', () => {
  it('lists the sources the run has', () => {
    expect(ablateSources(f3())).toEqual(['head', 'neuron', 'token']);
    expect(ablateSources(null)).toEqual([]);
  });

  it('heads: the most positive first, across layers', () => {
    const p = planAblation(f3(), 'head', 3, () => '')!;
    expect(p.removed.map((c) => c.label)).toEqual(['L1H0', 'L1H1', 'L0H0']);
    expect(p.spec).toEqual({
      heads: [
        { layer: 1, head: 0 },
        { layer: 1, head: 1 },
        { layer: 0, head: 0 },
      ],
    });
    expect(p.predicted).toBeCloseTo(-3.25, 12);
  });

  it('neurons of the run layer', () => {
    const p = planAblation(f3(), 'neuron', 2, () => '')!;
    expect(p.spec).toEqual({
      neurons: [
        { layer: 1, neuron: 2 },
        { layer: 1, neuron: 0 },
      ],
    });
    expect(p.predicted).toBeCloseTo(-2.5, 12);
  });

  it('tokens never include the target position itself', () => {
    const p = planAblation(f3(), 'token', 10, (s) => ['<s>', 'a', ' b', ' c'][s])!;
    // Position 3 (score 1.5) is the target: only 0..2 can go, best first: 2 (a), 1 (<s>), -1 ( b).
    expect(p.spec).toEqual({ tokens: [1, 0, 2] });
    expect(p.removed.map((c) => c.label)).toEqual(['1:a', '0:<s>', '2: b']);
    expect(p.predicted).toBeCloseTo(-2, 12);
  });

  it('a mode the run lacks gives no plan', () => {
    const r = handResult();
    delete r.neuron;
    expect(planAblation(focusOf(r, null, 3)!, 'neuron', 2, () => '')).toBeNull();
  });
});
