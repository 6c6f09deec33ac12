// Exported runs hold every chosen target after the model's own: targets and every mode's rows
// line up, and the completeness of each chosen target still holds in the merged file.

import { describe, expect, it } from 'vitest';
import { withChosenTargets } from './chosen-targets';
import { handResult } from './testing';

function chosen(position: number, id: number, contrast: number | null, logit: number) {
  const r = handResult();
  r.targets = [{ position, id, contrast_id: contrast, logit }];
  r.token = { scores: [[logit, 0, 0, 0]], rest: [0] };
  r.head = { ...r.head!, scores: [r.head!.scores[0]], rest: [r.head!.rest[0]] };
  r.neuron = { ...r.neuron!, scores: [r.neuron!.scores[0]], rest: [r.neuron!.rest[0]] };
  r.completeness = { max_abs_error: 0.01 };
  return { position, target: id, contrast, result: r };
}

describe('withChosenTargets', () => {
  it('appends each chosen target with its rows, in position order', () => {
    const r = handResult();
    const out = withChosenTargets(r, [chosen(1, 21, null, 2), chosen(3, 20, 13, -1)]);
    expect(out.targets.map((t) => [t.position, t.id, t.contrast_id])).toEqual([
      [0, 10, null],
      [1, 11, null],
      [2, 12, null],
      [3, 13, null],
      [1, 21, null],
      [3, 20, 13],
    ]);
    expect(out.token!.scores).toHaveLength(6);
    expect(out.token!.scores[5]).toEqual([-1, 0, 0, 0]);
    expect(out.head!.scores).toHaveLength(6);
    expect(out.head!.rest).toHaveLength(6);
    expect(out.neuron!.scores).toHaveLength(6);
    expect(out.completeness.max_abs_error).toBe(0.01);
    // Σ scores + rest = logit for every target of the merged file.
    out.targets.forEach((t, i) => {
      const sum = out.token!.scores[i].reduce((a, b) => a + b, 0) + out.token!.rest[i];
      expect(sum).toBeCloseTo(t.logit, 9);
    });
    // The main result is left as it was.
    expect(r.targets).toHaveLength(4);
  });

  it('leaves out re-runs of another prompt or another shape', () => {
    const r = handResult();
    const other = chosen(1, 21, null, 2);
    other.result.prompt = 'different';
    const noHeads = chosen(2, 22, null, 1);
    noHeads.result.head = undefined;
    expect(withChosenTargets(r, [other, noHeads])).toBe(r);
  });
});
