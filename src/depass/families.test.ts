// The reference engine against the official modelling code (Hugging Face transformers, float64),
// on small random models of every family it reads beyond the first five: GPT-NeoX (parallel and
// sequential, partial rotary), GPT-Neo (local layers, unscaled scores), Gemma 1/2/3 (soft-caps,
// windows, two RoPE bases, post-norms), OLMo-2, Phi-3 (fused weights, longrope past the original
// context) and Llama 3 RoPE scaling. Logits and attention probabilities within 1e-4, from the
// checkpoint files exactly as the library saved them, in every dtype the family ships in.

import { describe, expect, it } from 'vitest';
import { describeModel } from '../model/config';
import { loadCheckpoint } from '../model/checkpoint';
import { FAMILY_FIXTURES, fixtureCases, fixtureFiles, fixtureReference, newerConfig, olderConfig } from '../model/testing/family-fixtures';
import { skipWithoutFiles } from '../testing/requirements';
import { cappedLogit, forward } from './forward';
import { toReferenceModel } from './reference-model';

const cases = fixtureCases();

function worstRelative(got: (i: number) => number, want: number[][]): number {
  let scale = 0;
  let diff = 0;
  want.flat().forEach((v, i) => {
    scale = Math.max(scale, Math.abs(v));
    diff = Math.max(diff, Math.abs(v - got(i)));
  });
  return diff / scale;
}

describe.skipIf(skipWithoutFiles(`${FAMILY_FIXTURES}/index.json`))('reference engine vs the reference library, every family', () => {
  it('covers every family the issue names, in F32 and 16-bit dtypes', () => {
    const families = new Set(cases.map((c) => fixtureReference(c).model_type));
    for (const f of ['gpt_neox', 'gpt_neo', 'gemma', 'gemma2', 'gemma3_text', 'olmo2', 'phi3', 'llama']) expect(families.has(f), f).toBe(true);
    expect(cases.some((c) => c.endsWith('BF16'))).toBe(true);
    expect(cases.some((c) => c.endsWith('F16'))).toBe(true);
  });

  for (const name of cases) {
    it(`${name}: logits and attention probabilities within 1e-4`, async () => {
      const ref = fixtureReference(name);
      const ck = await loadCheckpoint(await fixtureFiles(name));
      expect(ck.description.family).toBe(ref.model_type);
      expect(ck.description.dtype).toBe(ref.dtype);
      const model = toReferenceModel(ck.description, ck.weights);
      const V = ck.description.vocab_size;
      const cap = ck.description.final_logit_softcapping;
      for (const p of ref.prompts) {
        const rec = forward(model, p.input_ids);
        const T = p.input_ids.length;
        // Attribution explains the pre-cap logit; the model reports the capped one.
        if (p.logits_pre_cap)
          expect(
            worstRelative((i) => rec.logits[i]!, p.logits_pre_cap),
            'pre-cap logits',
          ).toBeLessThan(1e-4);
        expect(
          worstRelative((i) => cappedLogit(rec.logits[i]!, cap), p.logits),
          'logits',
        ).toBeLessThan(1e-4);
        let worstA = 0;
        p.attentions.forEach((layer, l) =>
          layer.forEach((head, h) =>
            head.forEach((row, q) => row.forEach((v, k) => (worstA = Math.max(worstA, Math.abs(v - rec.layers[l]!.A[(h * T + q) * T + k]!))))),
          ),
        );
        expect(worstA, 'attention probabilities').toBeLessThan(1e-4);
        if (p.embedding_output)
          expect(
            worstRelative((i) => rec.layers[0]!.h_in[i]!, p.embedding_output),
            'embedding output',
          ).toBeLessThan(1e-5);
        expect(rec.logits.length).toBe(T * V);
      }
    });

    it(`${name}: the older config layout describes the same model`, () => {
      const newer = describeModel(newerConfig(name), 'config.json', 'm');
      const older = describeModel(olderConfig(name), 'config.v4.json', 'm');
      expect(older).toEqual(newer);
    });
  }
});
