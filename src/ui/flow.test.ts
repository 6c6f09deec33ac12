// The flow graph's nodes and edges on the hand-made result (scores read off by hand).

import { describe, expect, it } from 'vitest';
import { focusOf } from '../state/selectors';
import { handResult } from '../state/testing';
import { layoutFlow, type FlowOptions } from './flow';

const opts = (over: Partial<FlowOptions> = {}): FlowOptions => ({
  width: 800,
  height: 300,
  headsPerLayer: 1,
  maxSources: 3,
  threshold: 0,
  attentionRow: () => null,
  tokenLabel: (s) => `t${s}`,
  targetLabel: 'y',
  ...over,
});

describe('layoutFlow', () => {
  const f = focusOf(handResult(), null, 3)!;

  it('keeps the strongest sources in prompt order and the strongest head per layer', () => {
    const g = layoutFlow(f, 2, opts());
    // |scores| at position 3: 1, 2, 1, 1.5 → keep 1 (2), 3 (1.5), then the first of the ties (0).
    expect(g.nodes.filter((n) => n.kind === 'token').map((n) => n.position)).toEqual([0, 1, 3]);
    expect(g.nodes.filter((n) => n.kind === 'head').map((n) => n.id)).toEqual(['h0.0', 'h1.0']);
    expect(g.wantedHeads).toEqual([
      { layer: 0, head: 0 },
      { layer: 1, head: 0 },
    ]);
  });

  it('head→target edges carry the exact head scores', () => {
    const g = layoutFlow(f, 2, opts());
    const w = Object.fromEntries(g.edges.map((e) => [e.id, e.weight]));
    expect(w).toEqual({ 'h0.0>target': 0.5, 'h1.0>target': 2 });
    expect(g.edges.every((e) => e.basis === 'exact' && e.path.startsWith('M'))).toBe(true);
  });

  it('token→head edges are attention × head score when the attention row is known', () => {
    const row = [0.5, 0.25, 0, 0.25];
    const g = layoutFlow(f, 2, opts({ attentionRow: (l) => (l === 1 ? row : null) }));
    const att = g.edges.filter((e) => e.basis === 'attention');
    expect(att.map((e) => [e.id, e.weight])).toEqual([
      ['t0>h1.0', 1],
      ['t1>h1.0', 0.5],
      ['t3>h1.0', 0.5],
    ]);
  });

  it('the threshold hides edges below a fraction of the strongest', () => {
    const g = layoutFlow(f, 2, opts({ threshold: 0.5 }));
    expect(g.edges.map((e) => e.id)).toEqual(['h1.0>target']);
    expect(g.maxWeight).toBe(2);
  });

  it('without heads, tokens connect to the target with their own scores', () => {
    const r = handResult();
    delete r.head;
    const g = layoutFlow(focusOf(r, null, 3)!, 2, opts());
    expect(g.edges.map((e) => [e.id, e.weight])).toEqual([
      ['t0>target', 1],
      ['t1>target', 2],
      ['t3>target', 1.5],
    ]);
  });

  it('nodes stay inside the drawing', () => {
    const g = layoutFlow(f, 2, opts({ headsPerLayer: 2, maxSources: 4 }));
    for (const n of g.nodes) {
      expect(n.x).toBeGreaterThanOrEqual(0);
      expect(n.x).toBeLessThanOrEqual(800);
      expect(n.y).toBeGreaterThanOrEqual(0);
      expect(n.y).toBeLessThanOrEqual(300);
    }
  });

  it('draws given sources (words) with attention summed over their tokens, and a total below them whatever its rank', () => {
    const row = [0.5, 0.25, 0, 0.25];
    const g = layoutFlow(
      f,
      2,
      opts({
        maxSources: 1,
        attentionRow: (l) => (l === 1 ? row : null),
        sources: [{ key: '1', positions: [1, 2, 3], label: 'a b c', score: 2.5 }],
        rest: { key: 'special', positions: [0], label: 'special tokens', score: 1 },
      }),
    );
    const toks = g.nodes.filter((n) => n.kind === 'token');
    expect(toks.map((n) => [n.id, n.position, n.positions, n.score, n.rest ?? false])).toEqual([
      ['t1', 3, [1, 2, 3], 2.5, false],
      ['tspecial', 0, [0], 1, true],
    ]);
    // Head L1 H0 scores 2: the word's attention 0.5 (0.25 + 0 + 0.25), the BOS's 0.5.
    expect(g.edges.filter((e) => e.basis === 'attention').map((e) => [e.id, e.weight])).toEqual([
      ['t1>h1.0', 1],
      ['tspecial>h1.0', 1],
    ]);
  });
});
