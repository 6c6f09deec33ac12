// The faithfulness evaluation: its baselines checked against hand-computed cases, then the whole
// evaluation on a few held-out probes of each bundled demo model (the reduced form of
// `npm run eval`).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CpuForwardRecord as ForwardRecord } from '../src/depass/forward';
import { toReferenceModel } from '../src/depass/reference-model';
import { loadCheckpoint } from '../src/model/checkpoint';
import { loadTokenizer } from '../src/model/tokenizer';
import { filesFromPath } from '../src/node/files';
import { attentionRollout, evaluate, lastLayerAttention, type Probe } from './faithfulness';

/** A record with only what the attention baselines read: per layer A [H, T, T]. */
function recordOf(T: number, layersA: number[][][][]): ForwardRecord {
  return { T, layers: layersA.map((heads) => ({ A: Float64Array.from(heads.flat(2)) })) } as unknown as ForwardRecord;
}

describe('attention baselines', () => {
  // Two heads over three positions, causal rows that sum to one.
  const head0 = [
    [1, 0, 0],
    [0.5, 0.5, 0],
    [0.2, 0.3, 0.5],
  ];
  const head1 = [
    [1, 0, 0],
    [1, 0, 0],
    [0.6, 0, 0.4],
  ];

  it('last-layer attention is the mean over heads of the last row', () => {
    const out = lastLayerAttention(recordOf(3, [[head0, head1]]), 2);
    expect(Array.from(out).map((x) => +x.toFixed(12))).toEqual([0.4, 0.15, 0.45]);
  });

  it('rollout of one layer is 0.5 mean A + 0.5 I; of two layers the product, rows summing to one', () => {
    const one = attentionRollout(recordOf(3, [[head0, head1]]), 2);
    expect(Array.from(one).map((x) => +x.toFixed(12))).toEqual([0.2, 0.075, 0.725]);
    const two = attentionRollout(
      recordOf(3, [
        [head0, head1],
        [head0, head1],
      ]),
      2,
    );
    // Row 2 of R = Abar @ Abar, with Abar rows: [1,0,0], [0.375,0.625,0], [0.2,0.075,0.725].
    const expected = [0.2 * 1 + 0.075 * 0.375 + 0.725 * 0.2, 0.075 * 0.625 + 0.725 * 0.075, 0.725 * 0.725];
    Array.from(two).forEach((x, j) => expect(x).toBeCloseTo(expected[j], 12));
    expect(two.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe.each(['demo-llama', 'demo-gpt2'])('faithfulness evaluation on the bundled %s', (name) => {
  const dir = resolve(process.cwd(), 'public/models', name);
  const all = (
    JSON.parse(readFileSync(resolve(process.cwd(), 'public/models/probes.json'), 'utf8')) as {
      probes: (Probe & { example?: boolean })[];
    }
  ).probes.filter((p) => !p.example);
  // Two held-out probes of each kind keep this test to seconds.
  const sample = ['binding', 'induction', 'agreement'].flatMap((k) => all.filter((p) => p.kind === k).slice(0, 2));

  it('scores every probe, reports every method, and DePass finds the source tokens', async () => {
    expect(sample).toHaveLength(6);
    const files = await filesFromPath(dir);
    const c = await loadCheckpoint(files);
    const tokenizer = await loadTokenizer(files);
    const report = await evaluate(name, toReferenceModel(c.description, c.weights), tokenizer, sample);
    expect(report.skipped).toEqual([]);
    expect(report.probes).toBe(6);
    for (const table of [report.topSourceHit, report.deletion]) {
      expect(Object.keys(table).sort()).toEqual(['depass', 'last-attention', 'random', 'rollout']);
    }
    expect(Object.keys(report.headMasking).sort()).toEqual(['depass', 'head-norm', 'random']);
    for (const row of Object.values(report.deletion))
      for (const v of Object.values(row)) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeLessThanOrEqual(1); // a relative drop of a probability cannot exceed 100%
      }
    // The per-probe records agree with the summary.
    expect(report.perProbe.map((r) => r.id)).toEqual(sample.map((p) => p.id));
    const hits = report.perProbe.filter((r) => r.top.depass.hit).length;
    expect(report.topSourceHit.depass.all).toBeCloseTo(hits / 6, 12);
    expect(report.accuracy.all).toBeCloseTo(report.perProbe.filter((r) => r.answered).length / 6, 12);
    // Every probe has a distractor, so every one is also explained against its strongest rival.
    expect(report.perProbe.every((r) => r.contrastHit !== null)).toBe(true);
    expect(report.topSourceHitContrast.all).toBeCloseTo(report.perProbe.filter((r) => r.contrastHit).length / 6, 12);
    // Head counts follow the fractions of L x H = 16 heads, at least one.
    expect(report.headCounts).toEqual({ '1%': 1, '5%': 1, '10%': 2 });
    // The trained model answers these probes, and DePass puts a ground-truth source first.
    expect(report.accuracy.all).toBeGreaterThanOrEqual(5 / 6);
    expect(report.topSourceHit.depass.all).toBeGreaterThanOrEqual(5 / 6);
    // Removing half the tokens by DePass hurts the answer more than removing them at random.
    expect(report.deletion.depass['50%']).toBeGreaterThan(report.deletion.random['50%']);
  });
});
