// The faithfulness evaluation: its attention baselines and head counts checked against
// hand-computed cases; the lexical flag of every probe kind; then the whole evaluation on one
// lexical and one non-lexical held-out probe of each bundled demo model (a reduced `npm run eval`).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CpuForwardRecord as ForwardRecord } from '../src/depass/forward';
import { toReferenceModel } from '../src/depass/reference-model';
import { loadCheckpoint } from '../src/model/checkpoint';
import { loadTokenizer } from '../src/model/tokenizer';
import { filesFromPath } from '../src/node/files';
import { answerAtSource, attentionRollout, evaluate, HEAD_METHODS, headCount, lastLayerAttention, type Probe, TOKEN_METHODS } from './faithfulness';

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

describe('head counts', () => {
  it('round the fraction of all heads up, at least one head', () => {
    expect([0.01, 0.05, 0.1].map((f) => headCount(f, 16))).toEqual([1, 1, 2]);
    expect([0.01, 0.05, 0.1].map((f) => headCount(f, 30))).toEqual([1, 2, 3]);
    expect([0.01, 0.05, 0.1].map((f) => headCount(f, 144))).toEqual([2, 8, 15]);
  });
});

describe.each(['demo-llama', 'demo-gpt2'])('faithfulness evaluation on the bundled %s', (name) => {
  const dir = resolve(process.cwd(), 'public/models', name);
  const file = JSON.parse(readFileSync(resolve(process.cwd(), 'public/models/probes.json'), 'utf8')) as {
    probes: (Probe & { example?: boolean })[];
    kinds: Record<string, { lexical: boolean }>;
  };
  const all = file.probes.filter((p) => !p.example);
  const kinds = Object.keys(file.kinds);
  const load = async () => {
    const files = await filesFromPath(dir);
    const c = await loadCheckpoint(files);
    return { model: toReferenceModel(c.description, c.weights), tokenizer: await loadTokenizer(files) };
  };

  it('marks a kind lexical exactly when its answer token sits at a source, as probes.json says', async () => {
    const { tokenizer } = await load();
    for (const kind of kinds) {
      const flags = all.filter((p) => p.kind === kind).map((p) => answerAtSource(tokenizer, p));
      expect(flags.length, kind).toBeGreaterThan(50);
      expect(new Set(flags), kind).toEqual(new Set([file.kinds[kind].lexical]));
    }
  });

  // One lexical and one non-lexical probe, a short integral and one deletion fraction keep this to seconds.
  const sample = [all.find((p) => file.kinds[p.kind].lexical)!, all.find((p) => !file.kinds[p.kind].lexical)!];

  it('scores every probe and reports every method per kind', async () => {
    const { model, tokenizer } = await load();
    const report = await evaluate(name, model, tokenizer, sample, { igSteps: 2, deletionFractions: [0.5], randomSeeds: 1 });
    expect(report.skipped).toEqual([]);
    expect(report.probes).toBe(2);
    expect(Object.keys(report.kinds).sort()).toEqual([sample[0].kind, sample[1].kind, 'non-lexical', 'all'].sort());
    expect(report.kinds[sample[0].kind].lexical).toBe(true);
    expect(report.kinds[sample[1].kind].lexical).toBe(false);
    expect(report.kinds['non-lexical'].n).toBe(1);
    for (const k of Object.values(report.kinds)) {
      expect(Object.keys(k.topSourceHit).sort()).toEqual([...TOKEN_METHODS].sort());
      expect(Object.keys(k.deletion).sort()).toEqual([...TOKEN_METHODS].sort());
      expect(Object.keys(k.headMasking).sort()).toEqual([...HEAD_METHODS].sort());
      for (const row of Object.values(k.deletion))
        for (const v of Object.values(row)) {
          expect(Number.isFinite(v)).toBe(true);
          expect(v).toBeLessThanOrEqual(1); // a relative drop of a probability cannot exceed 100%
        }
      for (const row of Object.values(k.headMasking)) expect(Object.keys(row)).toEqual(['1%', '5%', '10%']);
    }
    // The per-probe records agree with the summary.
    expect(report.perProbe.map((r) => r.id)).toEqual(sample.map((p) => p.id));
    for (const m of TOKEN_METHODS.filter((x) => x !== 'random')) {
      expect(report.kinds.all.topSourceHit[m], m).toBeCloseTo(report.perProbe.filter((r) => r.top[m].hit).length / 2, 12);
    }
    expect(report.kinds.all.accuracy).toBeCloseTo(report.perProbe.filter((r) => r.answered).length / 2, 12);
    // The measured effects: the top one lowers the answer's logit, and the summary counts it.
    expect(report.kinds.all.effectTopIsSource).toBeCloseTo(report.perProbe.filter((r) => r.effectTop.hit).length / 2, 12);
    for (const r of report.perProbe) {
      expect(r.effectTop.effect, r.id).toBeGreaterThan(0);
      expect(r.sourceEffect, r.id).toBeLessThanOrEqual(r.effectTop.effect);
      expect(r.sourceEffect === r.effectTop.effect, r.id).toBe(r.effectTop.hit);
      expect(r.depassScore.source, r.id).toBeLessThanOrEqual(r.depassScore.top);
      expect(r.depassScore.source === r.depassScore.top, r.id).toBe(r.top.depass.hit);
    }
    expect(Object.keys(report.kinds.all.topEffectAgreement).sort()).toEqual([...TOKEN_METHODS].sort());
    for (const m of TOKEN_METHODS.filter((x) => x !== 'random')) {
      // A method that agrees with the measured top token names the same text.
      const agreeing = report.kinds.all.topEffectAgreement[m] * 2;
      const sameText = report.perProbe.filter((r) => r.top[m].text === r.effectTop.text).length;
      expect(agreeing, m).toBeLessThanOrEqual(sameText + 1e-12);
    }
    expect([0, 0.5, 1]).toContain(report.kinds.all.topSourceHitProportional);
    // Every probe has a distractor, so every one is also explained against its strongest rival.
    expect(report.perProbe.every((r) => r.contrastHit !== null)).toBe(true);
    // Head counts: 1%, 5% and 10% of L x H = 16 heads, rounded up.
    expect(report.headCounts).toEqual({ '1%': 1, '5%': 1, '10%': 2 });
    // The trained model answers these probes; masking no more heads at 5% than at 1% changes nothing.
    expect(report.kinds.all.accuracy).toBe(1);
    for (const m of HEAD_METHODS.filter((x) => x !== 'random')) expect(report.kinds.all.headMasking[m]['5%']).toBe(report.kinds.all.headMasking[m]['1%']);
  });
});
