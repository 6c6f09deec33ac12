// The float64 tape forward against the reference engine's logits, and its backward pass against
// central finite differences of the same forward, on random tiny models of every family: the
// gradient with respect to the input embeddings and with respect to every head's output. Logits
// are compared before any final soft-cap, which is what attribution explains.

import { describe, expect, it } from 'vitest';
import { forward } from '../../src/depass/forward';
import { toReferenceModel } from '../../src/depass/reference-model';
import type { ModelDescription } from '../../src/model/description';
import { randomModel, type RandomModelOptions } from '../../src/model/testing/random-model';
import { logitsOf, type Target, tapeForward, targetGradients, targetValue, tokenEmbeddings } from './model';

// Optional description overrides exercise features no random family has by default.
const cases: [string, RandomModelOptions, Partial<ModelDescription>?][] = [
  ['llama GQA tied', { family: 'llama', tie_word_embeddings: true, seed: 11 }],
  ['llama with attention and mlp biases', { family: 'llama', attention_bias: true, mlp_bias: true, seed: 12 }],
  ['mistral f16', { family: 'mistral', dtype: 'F16', seed: 13 }],
  ['qwen2 biases bf16', { family: 'qwen2', dtype: 'BF16', seed: 14 }],
  ['qwen3 q/k norm, head_dim != D/H', { family: 'qwen3', hidden_size: 24, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 10, seed: 15 }],
  ['gpt2', { family: 'gpt2', seed: 16 }],
  ['gpt2 three layers', { family: 'gpt2', num_hidden_layers: 3, seed: 17 }],
  ['gpt2 with exact (erf) GELU', { family: 'gpt2', seed: 18 }, { hidden_act: 'gelu' }],
  ['mistral sliding window of 3', { family: 'mistral', sliding_window: 3, seed: 19 }],
  [
    'llama 3 RoPE scaling',
    { family: 'llama', rope_scaling: { kind: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 4 }, seed: 20 },
  ],
  ['gpt-neox parallel residual, partial rotary', { family: 'gpt_neox', seed: 21 }],
  ['gpt-neox sequential', { family: 'gpt_neox', parallel_residual: false, seed: 22 }],
  ['gpt-neo local layers, unscaled scores', { family: 'gpt_neo', seed: 23 }],
  ['gemma embedding scale', { family: 'gemma', seed: 24 }],
  ['gemma 2 soft-caps, windows, post-norms', { family: 'gemma2', seed: 25 }],
  ['gemma 3 two RoPE bases, q/k norm', { family: 'gemma3_text', seed: 26 }],
  ['olmo-2 no pre-norms, projection q/k norm', { family: 'olmo2', seed: 27 }],
  ['phi-3 window', { family: 'phi3', window: 3, seed: 28 }],
];

function promptIds(V: number, T: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: T }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % V;
  });
}

/**
 * Central differences of f at x along every coordinate, against the analytic gradient g. The
 * error of each coordinate is measured relative to max(|fd_i|, 1% of the largest |fd|), so that
 * coordinates with a near-zero derivative are held to the gradient's own scale.
 */
function compareWithFiniteDifferences(f: (x: Float64Array) => number, x: Float64Array, g: Float64Array, eps = 1e-5): { maxRelError: number; scale: number } {
  const fd = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + eps;
    const up = f(x);
    x[i] = keep - eps;
    const down = f(x);
    x[i] = keep;
    fd[i] = (up - down) / (2 * eps);
  }
  const scale = fd.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let maxRelError = 0;
  for (let i = 0; i < x.length; i++) maxRelError = Math.max(maxRelError, Math.abs(g[i] - fd[i]) / Math.max(Math.abs(fd[i]), 0.01 * scale));
  return { maxRelError, scale };
}

describe.each(cases)('gradients on a random %s model', (name, opts, patch) => {
  const random = randomModel(opts);
  const description = { ...random.description, ...patch };
  const model = toReferenceModel(description, random.weights);
  const V = description.vocab_size;
  const D = description.hidden_size;
  const ids = promptIds(V, 6, opts.seed ?? 0);
  const T = ids.length;
  const x = tokenEmbeddings(model, ids);
  // A logit difference on odd seeds, a plain logit on even ones.
  const target: Target = { position: T - 1, token: 3, contrast: (opts.seed ?? 0) % 2 ? 5 : undefined };

  it('has the reference engine logits (float64 against float32, within 1e-4 relative)', () => {
    const want = forward(model, ids).logits;
    const got = logitsOf(model, tapeForward(model, x));
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst / scale).toBeLessThan(1e-4);
  });

  it('matches finite differences for the input-embedding gradient', () => {
    const g = targetGradients(model, x, target);
    expect(g.value).toBeCloseTo(targetValue(model, x, target), 12);
    const check = compareWithFiniteDifferences((e) => targetValue(model, e, target), Float64Array.from(x), g.dEmbeddings);
    console.info(`${name}: embedding gradient, max relative error ${check.maxRelError.toExponential(2)} (scale ${check.scale.toExponential(2)})`);
    expect(check.scale).toBeGreaterThan(0);
    expect(check.maxRelError).toBeLessThan(1e-3);
  });

  it('matches finite differences for every head output gradient', () => {
    const g = targetGradients(model, x, target);
    const L = description.num_hidden_layers;
    const width = T * description.num_attention_heads * description.head_dim;
    let worst = 0;
    for (let l = 0; l < L; l++) {
      const f = (offset: Float64Array) => {
        const offsets = Array.from({ length: L }, (_, m) => (m === l ? offset : undefined));
        return targetValue(model, x, target, { headOffsets: offsets });
      };
      const check = compareWithFiniteDifferences(f, new Float64Array(width), g.dHeads[l]);
      expect(check.scale, `layer ${l}`).toBeGreaterThan(0);
      worst = Math.max(worst, check.maxRelError);
    }
    console.info(`${name}: head-output gradient, max relative error ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-3);
  });

  it('gives exactly zero gradient to positions after the target (causality)', () => {
    const mid: Target = { ...target, position: 2 };
    const g = targetGradients(model, x, mid);
    for (let i = 3 * D; i < T * D; i++) expect(g.dEmbeddings[i]).toBe(0);
    expect(g.dEmbeddings.subarray(0, 3 * D).some((v) => v !== 0)).toBe(true);
  });
});

describe('bad input', () => {
  const { description, weights } = randomModel({ family: 'llama', seed: 1 });
  const model = toReferenceModel(description, weights);
  it('names the culprit', () => {
    expect(() => tokenEmbeddings(model, [1, 999])).toThrow(/token id 999 at position 1/);
    expect(() => targetGradients(model, tokenEmbeddings(model, [1, 2]), { position: 2, token: 0 })).toThrow(/position 2/);
    expect(() => targetGradients(model, tokenEmbeddings(model, [1, 2]), { position: 1, token: 64 })).toThrow(/target token 64/);
    expect(() => tapeForward(model, new Float64Array(5))).toThrow(/not \[T, 32\]/);
  });
});
