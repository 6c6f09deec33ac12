// Properties of the reference engine that hold whatever the weights: completeness (components sum
// to the residual after every layer and to the logit at the end), M = 1 reproduces the forward
// pass, and token-mode structure (component m is exactly zero before position m). Run on random
// tiny models of every family and weight dtype.

import { describe, expect, it } from 'vitest';
import type { ModelDescription } from '../model/description';
import { FAMILY_CASES } from '../model/testing/family-cases';
import { randomModel, type RandomModelOptions } from '../model/testing/random-model';
import { tokenComponents } from './components';
import { CpuBackend } from './cpu-backend';
import { type CpuPass, decomposedAttention, decomposedLayer, decomposedMlp } from './decomposed';
import { type CpuForwardRecord, forward } from './forward';
import { activeRows, type PassPlan, planPass } from './plan';
import type { ReferenceModel } from './reference-model';
import { toReferenceModel } from './reference-model';
import { runDepass } from './run';

const cases: [string, RandomModelOptions][] = [
  ['llama GQA f32 tied', { family: 'llama', tie_word_embeddings: true, seed: 1 }],
  ['llama with attention and mlp biases, untied', { family: 'llama', attention_bias: true, mlp_bias: true, seed: 2 }],
  ['mistral f16', { family: 'mistral', dtype: 'F16', seed: 3 }],
  ['qwen2 biases bf16', { family: 'qwen2', dtype: 'BF16', seed: 4 }],
  ['qwen3 q/k norm, head_dim != D/H', { family: 'qwen3', hidden_size: 24, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 10, seed: 5 }],
  ['gpt2', { family: 'gpt2', seed: 6 }],
  ['gpt2 f16', { family: 'gpt2', dtype: 'F16', seed: 7 }],
  ...FAMILY_CASES.map((c): [string, RandomModelOptions] => [c.name, c.model]),
];

/** Token mode's pass over a forward record. */
function tokenPass(model: ReferenceModel, rec: CpuForwardRecord, bosAtZero = false): CpuPass {
  const plan = planPass(model.description, rec.T, { kind: 'token' }, bosAtZero);
  return { plan, T: rec.T, D: model.description.hidden_size, data: tokenComponents(model, rec), rows: activeRows(plan, rec.T) };
}

function fakeTokens(ids: number[]) {
  return ids.map((id, i) => ({ id, text: `t${id}`, start: i, end: i + 1 }));
}

function promptIds(d: ModelDescription, T: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: T }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % d.vocab_size;
  });
}

describe.each(cases)('reference engine on a random %s model', (_name, opts) => {
  const { description, weights } = randomModel(opts);
  const model = toReferenceModel(description, weights);
  const ids = promptIds(description, 7, opts.seed ?? 0);
  const T = ids.length;
  const D = description.hidden_size;

  it('is complete in every granularity and rule', async () => {
    for (const rule of ['softmax', 'proportional'] as const) {
      const backend = new CpuBackend(model);
      const result = await runDepass(
        backend,
        { model: { name: 'r', fingerprint: 'x', description }, prompt: '', tokens: fakeTokens(ids), bosAtZero: true },
        { modes: ['token', 'head', 'neuron', 'module', 'subspace'], rule, neuronGroup: 5, layer: 0, layerDetail: true },
      );
      const scale = Math.max(...result.targets.map((t) => Math.abs(t.logit)), 1);
      expect(result.completeness.max_abs_error).toBeLessThan(1e-4 * scale);
      // Recompute the sums here rather than trusting the run's own figure.
      result.targets.forEach((tg, i) => {
        const tokenSum = result.token!.scores[i].reduce((a, b) => a + b, 0) + result.token!.rest[i];
        expect(Math.abs(tokenSum - tg.logit)).toBeLessThan(1e-4 * scale);
        for (let s = tg.position + 1; s < T; s++) expect(result.token!.scores[i][s]).toBe(0);
        result.head!.scores[i].forEach((heads, l) => {
          const sum = heads.reduce((a, b) => a + b, 0) + result.head!.rest[i][l];
          expect(Math.abs(sum - tg.logit)).toBeLessThan(1e-4 * scale);
        });
        expect(Math.abs(result.module!.scores[i].reduce((a, b) => a + b, 0) - tg.logit)).toBeLessThan(1e-4 * scale);
        expect(Math.abs(result.subspace!.scores[i].reduce((a, b) => a + b, 0) - tg.logit)).toBeLessThan(1e-4 * scale);
        // The last layer's decomposed logit lens is the final read-out itself.
        const last = result.token!.by_layer![i][description.num_hidden_layers - 1];
        last.forEach((v, s) => expect(v).toBeCloseTo(result.token!.scores[i][s], 4));
      });
      expect(result.head!.scores[0]).toHaveLength(description.num_hidden_layers);
      expect(result.head!.scores[0][0]).toHaveLength(description.num_attention_heads);
      expect(result.neuron!.scores[0]).toHaveLength(description.intermediate_size);
    }
  });

  it('keeps the components summing to the real residual after every layer', () => {
    const rec = forward(model, ids);
    const comps = tokenPass(model, rec);
    let checked = 0;
    for (let l = 0; l < description.num_hidden_layers; l++) {
      decomposedLayer(model, l, rec.layers[l], comps, { rule: 'softmax', tau: 0.1 });
      const h = l + 1 < description.num_hidden_layers ? rec.layers[l + 1].h_in : rec.h_final;
      const scale = Math.max(...h.map(Math.abs));
      for (let i = 0; i < T * D; i++) {
        let sum = 0;
        for (let m = 0; m < comps.plan.M; m++) sum += comps.data[m * T * D + i];
        expect(Math.abs(sum - h[i])).toBeLessThan(2e-5 * scale);
      }
      // Token m's component is exactly zero before position m, at every layer.
      for (let m = 0; m < T; m++) {
        for (let t = 0; t < m; t++) {
          const row = comps.data.subarray((m * T + t) * D, (m * T + t + 1) * D);
          expect(row.every((v) => v === 0)).toBe(true);
        }
      }
      checked++;
    }
    expect(checked).toBe(description.num_hidden_layers);
  });

  it('reproduces the forward pass with a single component (M = 1)', () => {
    const rec = forward(model, ids);
    const plan: PassPlan = { kind: 'module', M: 1, rest: 0, from: 0, startAtMlp: false, start: new Int32Array(1), enter: new Int32Array([-1]), bosRule: false };
    const C: CpuPass = { plan, T, D, data: rec.layers[0].h_in.slice(), rows: activeRows(plan, T) };
    for (let l = 0; l < description.num_hidden_layers; l++) decomposedLayer(model, l, rec.layers[l], C, { rule: 'softmax', tau: 0.1 });
    const scale = Math.max(...rec.h_final.map(Math.abs));
    for (let i = 0; i < T * D; i++) expect(Math.abs(C.data[i] - rec.h_final[i])).toBeLessThan(1e-5 * scale);
  });
});

describe('reference engine structure', () => {
  it('gives a bias-free model an empty rest in token mode', async () => {
    const { description, weights } = randomModel({ family: 'llama', seed: 11 });
    const backend = new CpuBackend(toReferenceModel(description, weights));
    const ids = promptIds(description, 5, 3);
    const result = await runDepass(
      backend,
      { model: { name: 'r', fingerprint: 'x', description }, prompt: '', tokens: fakeTokens(ids), bosAtZero: false },
      { modes: ['token'] },
    );
    for (const r of result.token!.rest) expect(r).toBe(0);
  });

  it('gives GPT-2 biases and LayerNorm betas to the rest', async () => {
    const { description, weights } = randomModel({ family: 'gpt2', seed: 12 });
    const backend = new CpuBackend(toReferenceModel(description, weights));
    const ids = promptIds(description, 5, 4);
    const result = await runDepass(
      backend,
      { model: { name: 'r', fingerprint: 'x', description }, prompt: '', tokens: fakeTokens(ids), bosAtZero: false },
      { modes: ['token'] },
    );
    expect(result.token!.rest.some((r) => Math.abs(r) > 1e-3)).toBe(true);
  });

  it('scores a contrast target as the difference of the two targets', async () => {
    const { description, weights } = randomModel({ family: 'qwen2', seed: 13 });
    const model = toReferenceModel(description, weights);
    const ids = promptIds(description, 6, 5);
    const input = { model: { name: 'r', fingerprint: 'x', description }, prompt: '', tokens: fakeTokens(ids), bosAtZero: false };
    const a = await runDepass(new CpuBackend(model), input, { modes: ['token'], target: 3 });
    const b = await runDepass(new CpuBackend(model), input, { modes: ['token'], target: 9 });
    const c = await runDepass(new CpuBackend(model), input, { modes: ['token'], target: 3, contrast: 9 });
    c.targets.forEach((tg, i) => {
      expect(tg.logit).toBeCloseTo(a.targets[i].logit - b.targets[i].logit, 4);
      // Under the softmax rule the shares do not depend on the target, so scores subtract too.
      c.token!.scores[i].forEach((v, s) => expect(v).toBeCloseTo(a.token!.scores[i][s] - b.token!.scores[i][s], 4));
    });
  });

  it('refuses out-of-range requests with a clear message', async () => {
    const { description, weights } = randomModel({ family: 'llama', seed: 14 });
    const backend = new CpuBackend(toReferenceModel(description, weights));
    const input = { model: { name: 'r', fingerprint: 'x', description }, prompt: '', tokens: fakeTokens([1, 2, 3]), bosAtZero: false };
    await expect(runDepass(backend, input, { modes: ['token'], positions: [5] })).rejects.toThrow(/position 5 is out of range/);
    await expect(runDepass(backend, input, { modes: ['neuron'], layer: 9 })).rejects.toThrow(/layer 9 is out of range/);
    await expect(runDepass(backend, input, { modes: ['token'], target: 1e6 })).rejects.toThrow(/target token id/);
    const long = fakeTokens(Array.from({ length: description.max_position_embeddings + 1 }, () => 1));
    await expect(runDepass(backend, { ...input, tokens: long }, { modes: ['token'] })).rejects.toThrow(/reads at most/);
  });
});

describe('the BOS rule', () => {
  it('gives component 0 no MLP share after position 0, and only in token mode', async () => {
    const { description, weights } = randomModel({ family: 'llama', seed: 21 });
    const model = toReferenceModel(description, weights);
    const ids = promptIds(description, 6, 9);
    const T = ids.length;
    const D = description.hidden_size;
    const rec = forward(model, ids);
    for (const bosRule of [true, false]) {
      const C = tokenPass(model, rec, bosRule);
      decomposedAttention(model, 0, rec.layers[0], C);
      const before = C.data.slice(0, T * D);
      decomposedMlp(model, 0, rec.layers[0], C, { rule: 'softmax', tau: 0.1 });
      const after = C.data.slice(0, T * D);
      const changedAfter0 = after.some((v, i) => i >= D && v !== before[i]);
      const changedAt0 = after.some((v, i) => i < D && v !== before[i]);
      expect(changedAt0).toBe(true);
      expect(changedAfter0).toBe(!bosRule);
    }
  });
});
