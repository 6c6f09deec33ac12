// The comparison's pure parts against values worked out by hand: the token alignment, the
// compared positions, and every difference (tokens, heads, flow focus, per-layer shares).

import { describe, expect, it } from 'vitest';
import { alignTokens, compareRuns, differenceFocus, headDiff, layerShares, pairLabel, shownRows, tokenDiff, type TokenDiffRow } from './compare';
import { handResult } from './testing';

const ids = (...xs: number[]) => xs.map((id) => ({ id }));

describe('token alignment', () => {
  it('pairs a minimal pair position by position, the differing token as a substitution', () => {
    expect(alignTokens(ids(1, 5, 6, 7), ids(1, 5, 6, 9))).toEqual([
      { a: 0, b: 0, same: true },
      { a: 1, b: 1, same: true },
      { a: 2, b: 2, same: true },
      { a: 3, b: 3, same: false },
    ]);
  });

  it('leaves a gap for an inserted token', () => {
    // "1 5 6 7" vs "1 5 8 6 7": the 8 is only in the second.
    expect(alignTokens(ids(1, 5, 6, 7), ids(1, 5, 8, 6, 7))).toEqual([
      { a: 0, b: 0, same: true },
      { a: 1, b: 1, same: true },
      { a: null, b: 2, same: false },
      { a: 2, b: 3, same: true },
      { a: 3, b: 4, same: true },
    ]);
    expect(alignTokens(ids(4, 5), ids(5))).toEqual([
      { a: 0, b: null, same: false },
      { a: 1, b: 0, same: true },
    ]);
  });

  it('handles empty prompts', () => {
    expect(alignTokens([], ids(3))).toEqual([{ a: null, b: 0, same: false }]);
    expect(alignTokens([], [])).toEqual([]);
  });

  it('labels pairs by token, both where they differ', () => {
    const a = handResult().tokens;
    const b = handResult().tokens;
    b[3] = { id: 9, text: ' d', start: 3, end: 5 };
    const up = (s: string) => s.toUpperCase();
    expect(pairLabel({ a: 1, b: 1, same: true }, a, b, up)).toBe('A');
    expect(pairLabel({ a: 3, b: 3, same: false }, a, b, up)).toBe(' C/ D');
    expect(pairLabel({ a: null, b: 2, same: false }, a, b, up)).toBe('∅/ B');
  });
});

/** The hand result and a second one whose last token differs and whose scores are known. */
function minimalPair() {
  const a = handResult('a b c');
  const b = handResult('a b d');
  b.tokens[3] = { id: 9, text: ' d', start: 3, end: 5 };
  b.targets[3] = { position: 3, id: 13, contrast_id: null, logit: 3 };
  b.token!.scores[3] = [0.5, 1, 1, 0];
  b.token!.rest[3] = 0.5;
  b.head!.scores[3] = [
    [0.5, 0.25],
    [1, -1],
  ];
  return { a, b };
}

describe('comparison of two runs', () => {
  it('reads the second run at the position aligned with the first', () => {
    const { a, b } = minimalPair();
    const c = compareRuns(a, [], null, b, [])!;
    expect(c.first.position).toBe(3);
    expect(c.second.position).toBe(3);
    expect(c.paired).toBe(true);
    const at1 = compareRuns(a, [], 1, b, [])!;
    expect(at1.second.position).toBe(1);
    expect(at1.upTo).toEqual([
      { a: 0, b: 0, same: true },
      { a: 1, b: 1, same: true },
    ]);
  });

  it('falls back to the second run’s last position when the token has no partner', () => {
    const a = handResult('a b c');
    const b = handResult('b c');
    b.tokens = [b.tokens[0], b.tokens[2], b.tokens[3]];
    // a = [1,5,6,7], b = [1,6,7]: token 5 (position 1) is only in the first.
    const c = compareRuns(a, [], 1, b, [])!;
    expect(c.paired).toBe(false);
    expect(c.second.position).toBe(2);
  });

  it('refuses runs of different models', () => {
    const { a, b } = minimalPair();
    b.model = { ...b.model, fingerprint: 'sha256:other' };
    expect(compareRuns(a, [], null, b, [])).toBeNull();
    expect(compareRuns(a, [], null, null, [])).toBeNull();
  });

  it('subtracts token scores per aligned pair, and the differences add up to the logit difference', () => {
    const { a, b } = minimalPair();
    const d = tokenDiff(compareRuns(a, [], null, b, [])!)!;
    // first [1, 2, -1, 1.5] rest 0.5 logit 4; second [0.5, 1, 1, 0] rest 0.5 logit 3.
    expect(d.rows.map((r) => r.diff)).toEqual([0.5, 1, -2, 1.5]);
    expect(d.rows.map((r) => [r.a, r.b])).toEqual([
      [1, 0.5],
      [2, 1],
      [-1, 1],
      [1.5, 0],
    ]);
    expect(d.rest).toBe(0);
    expect(d.logit).toBe(1);
    expect(d.rows.reduce((s, r) => s + r.diff, 0) + d.rest).toBe(d.logit);
  });

  it('counts a token present in one prompt only against zero', () => {
    const a = handResult('a b c');
    const b = handResult('b c');
    b.tokens = [b.tokens[0], b.tokens[2], b.tokens[3]];
    b.targets = b.targets.slice(0, 3);
    b.token = {
      scores: [
        [4, 0, 0],
        [1, 3, 0],
        [2, 1, 0.5],
      ],
      rest: [0, 0, 0.5],
    };
    const d = tokenDiff(compareRuns(a, [], null, b, [])!)!;
    // pairs (0,0) (1,-) (2,1) (3,2): first [1, 2, -1, 1.5], second [2, -, 1, 0.5].
    expect(d.rows.map((r) => r.diff)).toEqual([-1, 2, -2, 1]);
    expect(d.rows[1].b).toBeNull();
  });

  it('subtracts head scores layer by layer', () => {
    const { a, b } = minimalPair();
    const h = headDiff(compareRuns(a, [], null, b, [])!)!;
    // first [[0.5, -0.25], [2, 0.75]], second [[0.5, 0.25], [1, -1]].
    expect(h.layers).toEqual([0, 1]);
    expect(h.diff).toEqual([
      [0, -0.5],
      [1, 1.75],
    ]);
  });

  it('compares a second target on the same prompt through its re-run', () => {
    const a = handResult('a b c');
    const b = handResult('a b c');
    b.targets = b.targets.map((t) => ({ ...t, id: 20, logit: 3 }));
    b.token!.scores[3] = [1, 1, 1, 0];
    b.token!.rest[3] = 0;
    const d = tokenDiff(compareRuns(a, [], null, b, [])!)!;
    expect(d.rows.map((r) => r.diff)).toEqual([0, 1, -2, 1.5]);
    expect(d.logit).toBe(1);
  });

  it('makes a flow focus whose scores are the differences', () => {
    const { a, b } = minimalPair();
    const f = differenceFocus(compareRuns(a, [], null, b, [])!, (s) => s)!;
    expect(f.position).toBe(3);
    expect(f.result.tokens.map((t) => t.text)).toEqual(['<s>', 'a', ' b', ' c/ d']);
    expect(f.result.token!.scores[0]).toEqual([0.5, 1, -2, 1.5]);
    expect(f.target.logit).toBe(1);
    expect(f.result.head!.scores[0]).toEqual([
      [0, -0.5],
      [1, 1.75],
    ]);
    // Each layer's heads and rest add up to the logit difference, as a run's do.
    expect(f.result.head!.rest[0]).toEqual([1.5, -1.75]);
  });

  it('gives both runs’ per-layer shares for the strongest aligned tokens', () => {
    const { a, b } = minimalPair();
    a.token!.by_layer = a.token!.scores.map(() => [
      [1, 1, 0, 0],
      [1, 2, -1, 1.5],
    ]);
    a.token!.rest_by_layer = a.token!.scores.map(() => [0, 0.5]);
    b.token!.by_layer = b.token!.scores.map(() => [
      [2, 0, 0, 0],
      [0.5, 1, 1, 0],
    ]);
    b.token!.rest_by_layer = b.token!.scores.map(() => [2, 0.5]);
    const s = layerShares(compareRuns(a, [], null, b, [])!, 2)!;
    // |a|+|b| of the final scores: pair 0 1.5, 1 3, 2 2, 3 1.5 → pairs 1 and 2.
    expect(s.pairs.map((p) => p.a)).toEqual([1, 2]);
    // first: layer 0 row [1,1,0,0] rest 0 → Σ 2; layer 1 Σ 5.5 + 0.5 = 6.
    expect(s.a).toEqual([
      [0.5, 0],
      [2 / 6, -1 / 6],
    ]);
    // second: layer 0 Σ 2 + 2 = 4; layer 1 Σ 2.5 + 0.5 = 3.
    expect(s.b).toEqual([
      [0, 0],
      [1 / 3, 1 / 3],
    ]);
  });
});

describe('rows shown for a long prompt', () => {
  const row = (k: number, diff: number, same = true): TokenDiffRow => ({ pair: { a: k, b: k, same }, a: diff, b: 0, diff });

  it('keeps changed tokens, then the largest differences, in prompt order, and always the compared position', () => {
    const rows = [row(0, 5), row(1, 0.1, false), row(2, -4), row(3, 0.2), row(4, 3), row(5, 0)];
    expect(shownRows(rows, 6)).toBe(rows);
    // 3 of 6: the last (compared) row, the changed row 1, then the largest |diff| (row 0).
    expect(shownRows(rows, 3).map((r) => r.pair.a)).toEqual([0, 1, 5]);
    expect(shownRows(rows, 4).map((r) => r.pair.a)).toEqual([0, 1, 2, 5]);
  });
});
