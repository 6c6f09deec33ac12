// Properties of the baselines that hold whatever the weights, on random tiny models: integrated
// gradients are complete, direct logit attribution is the whole logit when the layers write
// nothing, gradient x input is the derivative along each token's own scaling, and attribution
// patching predicts zero ablation when heads are weak enough for first order to hold.

import { describe, expect, it } from 'vitest';
import type { ReferenceModel } from '../src/depass/reference-model';
import { toReferenceModel } from '../src/depass/reference-model';
import { randomModel, type RandomModelOptions } from '../src/model/testing/random-model';
import { allBaselines, attributionPatching, directLogitAttribution, gradientTimesInput, integratedGradients } from './baselines';
import { type Target, tapeForward, targetValue, tokenEmbeddings } from './grad/model';

const families: [string, RandomModelOptions][] = [
  ['llama', { family: 'llama', seed: 21 }],
  ['qwen2', { family: 'qwen2', seed: 22 }],
  ['qwen3', { family: 'qwen3', seed: 23 }],
  ['gpt2', { family: 'gpt2', seed: 24 }],
];

const ids = [1, 7, 12, 30, 9, 41];
const target: Target = { position: ids.length - 1, token: 3, contrast: 8 };

function load(opts: RandomModelOptions): ReferenceModel {
  const { description, weights } = randomModel(opts);
  return toReferenceModel(description, weights);
}

describe.each(families)('baselines on a random %s model', (_name, opts) => {
  const model = load(opts);

  it("integrated gradients are complete on a smooth path: the scores sum to f(x) - f(x')", () => {
    // From a baseline of half the input the path stays clear of zero, where RMSNorm without
    // biases is degenerate (see integratedGradients), so every family must be complete.
    const x = tokenEmbeddings(model, ids);
    const half = x.map((v) => v / 2);
    const ig = integratedGradients(model, ids, target, { steps: 128, baseline: half });
    const sum = ig.scores.reduce((a, b) => a + b, 0);
    const gap = ig.value - ig.baselineValue;
    expect(Math.abs(gap)).toBeGreaterThan(1e-3); // not trivially complete
    expect(Math.abs(sum - gap)).toBeLessThan(1e-3 * Math.max(1, Math.abs(gap)));
    // The midpoint rule converges: 32 steps are within 1% of the gap, and no closer than 128.
    const coarse = integratedGradients(model, ids, target, { steps: 32, baseline: half });
    const coarseSum = coarse.scores.reduce((a, b) => a + b, 0);
    expect(Math.abs(coarseSum - gap)).toBeLessThan(1e-2 * Math.max(1, Math.abs(gap)));
    expect(Math.abs(coarseSum - gap)).toBeGreaterThanOrEqual(Math.abs(sum - gap));
  });

  it("gradient x input of a token is the derivative of f along that token's own scaling", () => {
    const gxi = gradientTimesInput(model, ids, target);
    const x = tokenEmbeddings(model, ids);
    const D = model.description.hidden_size;
    const eps = 1e-5;
    const scaled = (t: number, a: number) => {
      const y = Float64Array.from(x);
      for (let d = 0; d < D; d++) y[t * D + d] *= a;
      return targetValue(model, y, target);
    };
    for (let t = 0; t < ids.length; t++) {
      const fd = (scaled(t, 1 + eps) - scaled(t, 1 - eps)) / (2 * eps);
      expect(Math.abs(gxi[t] - fd), `token ${t}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
  });

  it('attribution patching predicts zero ablation of each head when heads write little', () => {
    // Scaling o_proj by 1e-4 makes f nearly linear in each head's output, so the first-order
    // estimate must match the measured effect f - f(head zeroed) closely.
    const weak: ReferenceModel = {
      ...model,
      layers: model.layers.map((l) => ({ ...l, o_proj: { ...l.o_proj, weight: l.o_proj.weight.map((w) => w * 1e-4) } })),
    };
    const ap = attributionPatching(weak, ids, target);
    const x = tokenEmbeddings(weak, ids);
    const run = tapeForward(weak, x);
    const { num_attention_heads: H, head_dim: dh, num_hidden_layers: L } = weak.description;
    const base = targetValue(weak, x, target);
    const measured = new Float64Array(L * H);
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) {
        const offset = new Float64Array(ids.length * H * dh);
        for (let t = 0; t < ids.length; t++) for (let e = 0; e < dh; e++) offset[(t * H + h) * dh + e] = -run.heads[l].value[(t * H + h) * dh + e];
        const offsets = Array.from({ length: L }, (_, m) => (m === l ? offset : undefined));
        measured[l * H + h] = base - targetValue(weak, x, target, { headOffsets: offsets });
      }
    const scale = Math.max(...Array.from(measured, Math.abs));
    expect(scale).toBeGreaterThan(0);
    for (let i = 0; i < L * H; i++) expect(Math.abs(ap[i] - measured[i]), `head ${i}`).toBeLessThan(1e-2 * scale);
  });

  it('allBaselines agrees with the single functions', () => {
    const all = allBaselines(model, ids, target, 4);
    expect(Array.from(all.gradientTimesInput)).toEqual(Array.from(gradientTimesInput(model, ids, target)));
    expect(Array.from(all.attributionPatching)).toEqual(Array.from(attributionPatching(model, ids, target)));
    expect(Array.from(all.directLogit)).toEqual(Array.from(directLogitAttribution(model, ids, target)));
    expect(Array.from(all.integratedGradients.scores)).toEqual(Array.from(integratedGradients(model, ids, target, { steps: 4 }).scores));
    expect(all.value).toBeCloseTo(targetValue(model, tokenEmbeddings(model, ids), target), 12);
  });
});

describe('integrated gradients with the zero baseline', () => {
  it('are complete on gpt2, whose position embeddings keep the path away from zero', () => {
    const model = load({ family: 'gpt2', seed: 25 });
    const ig = integratedGradients(model, ids, target, { steps: 128 });
    const sum = ig.scores.reduce((a, b) => a + b, 0);
    const gap = ig.value - ig.baselineValue;
    expect(Math.abs(gap)).toBeGreaterThan(1e-3);
    expect(Math.abs(sum - gap)).toBeLessThan(1e-3 * Math.max(1, Math.abs(gap)));
  });

  it('default to 32 steps and the zero baseline', () => {
    const model = load({ family: 'qwen2', seed: 26 });
    const x = tokenEmbeddings(model, ids);
    const a = integratedGradients(model, ids, target);
    const b = integratedGradients(model, ids, target, { steps: 32, baseline: new Float64Array(x.length) });
    expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
    expect(a.baselineValue).toBe(targetValue(model, new Float64Array(x.length), target));
  });
});

describe('direct logit attribution', () => {
  /** The model with every attention and MLP write zeroed, so the final residual is the input. */
  function silenced(model: ReferenceModel): ReferenceModel {
    const zero = <T extends { weight: Float32Array; bias?: Float32Array }>(w: T): T => ({
      ...w,
      weight: new Float32Array(w.weight.length),
      bias: w.bias && new Float32Array(w.bias.length),
    });
    return { ...model, layers: model.layers.map((l) => ({ ...l, o_proj: zero(l.o_proj), down_proj: zero(l.down_proj) })) };
  }

  it.each(families.filter(([n]) => n !== 'gpt2'))('is the whole logit of the last token on a silenced %s model (RMSNorm)', (_n, opts) => {
    const model = silenced(load(opts));
    const dla = directLogitAttribution(model, ids, target);
    const value = targetValue(model, tokenEmbeddings(model, ids), target);
    expect(dla[ids.length - 1]).toBeCloseTo(value, 10);
  });

  it('on a silenced gpt2 model (LayerNorm) it is the logit less the position and beta terms', () => {
    const model = silenced(load({ family: 'gpt2', seed: 24 }));
    const { hidden_size: D } = model.description;
    const T = ids.length;
    const x = tokenEmbeddings(model, ids);
    const run = tapeForward(model, x);
    const s = run.finalScale[T - 1];
    const dla = directLogitAttribution(model, ids, target);
    // logit = s dir . gamma (centre(E) + centre(P)) + dir . beta, computed here by hand.
    const P = model.embed_positions!.subarray((T - 1) * D, T * D);
    const pMean = P.reduce((a, b) => a + b, 0) / D;
    let rest = 0;
    for (let d = 0; d < D; d++) {
      const dir = model.lm_head[target.token * D + d] - model.lm_head[target.contrast! * D + d];
      rest += s * dir * model.norm.weight[d] * (P[d] - pMean) + dir * model.norm.bias![d];
    }
    expect(dla[T - 1] + rest).toBeCloseTo(targetValue(model, x, target), 10);
  });

  it('rejects bad input with the culprit named', () => {
    const model = load({ family: 'llama', seed: 21 });
    expect(() => integratedGradients(model, ids, target, { steps: 0 })).toThrow(/steps must be a positive integer, not 0/);
    expect(() => integratedGradients(model, ids, target, { baseline: new Float64Array(3) })).toThrow(/baseline has 3 elements/);
    expect(() => directLogitAttribution(model, [1, 70], { position: 1, token: 2 })).toThrow(/token id 70/);
  });
});
