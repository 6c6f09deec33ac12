// Spearman's correlation against hand-computed cases, and the token-effect evaluation on
// stories260K (../shared) in a reduced form: two prompts, a short integral.

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toReferenceModel } from '../src/depass/reference-model';
import { loadCheckpoint } from '../src/model/checkpoint';
import { loadTokenizer } from '../src/model/tokenizer';
import { filesFromPath } from '../src/node/files';
import { SHARED, skipWithoutFiles } from '../src/testing/requirements';
import { targetValue, tokenEmbeddings } from './grad/model';
import { meanEmbedding, measuredEffects } from './effects';
import { spearman } from '../bench/stats';
import { EFFECT_METHODS, evaluateTokenEffects } from './token-effects';

describe('spearman', () => {
  it('is 1 for the same order, -1 for the reverse, and averages tied ranks', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 45])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // Ranks [1, 2.5, 2.5, 4] against [1, 2, 3, 4]: covariance 4.5 / sqrt(4.5 * 5).
    expect(spearman([0, 5, 5, 9], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBe(0);
    expect(() => spearman([1, 2], [1])).toThrow(/2 scores against 1/);
  });
});

describe('measured token effects', () => {
  it('are causal, zero for a row equal to the mean, and additive across a contrast', async () => {
    const files = await filesFromPath(resolve(process.cwd(), 'public/models/demo-llama'));
    const c = await loadCheckpoint(files);
    const tokenizer = await loadTokenizer(files);
    const model = toReferenceModel(c.description, c.weights);
    const ids = tokenizer.encode('The ducks waited by the shop. At night,').map((t) => t.id);
    const T = ids.length;
    const D = c.description.hidden_size;
    const x = tokenEmbeddings(model, ids);
    const mean = meanEmbedding(model);
    const [a, b] = [tokenizer.encode(' they')[0].id, tokenizer.encode(' it')[0].id];
    // Read at position 3: tokens after it cannot change it; tokens up to it do.
    const early = measuredEffects(model, x, [1, 2, 3, 4, T - 1], { position: 3, token: a }, mean);
    expect(early.slice(3)).toEqual([0, 0]);
    expect(early.slice(0, 3).some((e) => Math.abs(e) > 1e-6)).toBe(true);
    // A token whose embedding already is the mean has no effect.
    const y = Float64Array.from(x);
    y.set(mean, 2 * D);
    expect(measuredEffects(model, y, [2], { position: T - 1, token: a }, mean)[0]).toBe(0);
    // The effect on a logit difference is the difference of the effects.
    const all = Array.from({ length: T - 1 }, (_, i) => i);
    const ea = measuredEffects(model, x, all, { position: T - 1, token: a }, mean);
    const eb = measuredEffects(model, x, all, { position: T - 1, token: b }, mean);
    const ec = measuredEffects(model, x, all, { position: T - 1, token: a, contrast: b }, mean);
    ec.forEach((e, i) => expect(e).toBeCloseTo(ea[i] - eb[i], 9));
    // And each is the drop of the target logit itself, read off a forward pass.
    const z = Float64Array.from(x);
    z.set(mean, 1 * D);
    expect(ea[1]).toBeCloseTo(targetValue(model, x, { position: T - 1, token: a }) - targetValue(model, z, { position: T - 1, token: a }), 9);
  });
});

const STORIES = resolve(SHARED, 'models/stories260K');

describe.skipIf(skipWithoutFiles(`${STORIES}/config.json`))('token effects on stories260K', () => {
  it('compares every method with the measured effects on prompts from its own continuations', async () => {
    const files = await filesFromPath(STORIES);
    const c = await loadCheckpoint(files);
    const tokenizer = await loadTokenizer(files);
    const model = toReferenceModel(c.description, c.weights);
    const mean = meanEmbedding(model);
    const D = c.description.hidden_size;
    // The mean embedding is the mean of the rows (checked on one coordinate by hand).
    let m0 = 0;
    for (let v = 0; v < c.description.vocab_size; v++) m0 += model.embed_tokens[v * D];
    expect(mean[0]).toBeCloseTo(m0 / c.description.vocab_size, 6);
    const r = await evaluateTokenEffects('stories260K', model, tokenizer, {
      continuation: 10,
      cuts: [8],
      limit: 2,
      igSteps: 2,
      deletionFractions: [0.5],
      randomSeeds: 1,
    });
    expect(r.prompts).toBe(2);
    expect(Object.keys(r.spearman).sort()).toEqual([...EFFECT_METHODS].sort());
    for (const m of EFFECT_METHODS) {
      expect(Math.abs(r.spearman[m]), m).toBeLessThanOrEqual(1);
      expect([0, 0.5, 1]).toContain(r.top1Agreement[m]);
      expect(r.deletion[m]['50%']).toBeLessThanOrEqual(1);
    }
    // Each prompt is 8 tokens of the model's own story and its target is the greedy next token.
    for (const p of r.perPrompt) expect(p.tokens).toBe(8);
  });
});
