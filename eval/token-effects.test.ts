// Spearman's correlation against hand-computed cases, and the token-effect evaluation on
// stories260K (../shared) in a reduced form: two prompts, a short integral.

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toReferenceModel } from '../src/depass/reference-model';
import { loadCheckpoint } from '../src/model/checkpoint';
import { loadTokenizer } from '../src/model/tokenizer';
import { filesFromPath } from '../src/node/files';
import { SHARED, skipWithoutFiles } from '../src/testing/requirements';
import { EFFECT_METHODS, evaluateTokenEffects, meanEmbedding, spearman } from './token-effects';

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
