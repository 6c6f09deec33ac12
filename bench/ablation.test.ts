// NeuronAblation (batched GPU ablation) against the TypeScript reference forward pass run once per
// ablated neuron (forward.ts with its `ablation` option): the same target logits whether the
// copies share a pass or not, on every family (GQA, biases, q/k norm, LayerNorm and learned positions).

import { describe, expect, it } from 'vitest';
import type { TargetSpec } from '../src/depass/backend';
import { forward } from '../src/depass/forward';
import { toReferenceModel } from '../src/depass/reference-model';
import { randomModel, type RandomModelOptions } from '../src/model/testing/random-model';
import { nodeShaderLoader } from '../src/gpu/node';
import { describeAdapter, skipWithoutGpu, testGpu } from '../src/gpu/testing/gpu-env';
import { NeuronAblation } from './ablation';

const gpu = await testGpu();
const loader = nodeShaderLoader();

/** Reference logits [neurons, targets]: one whole forward pass per zeroed neuron. */
function referenceLogits(opts: RandomModelOptions, ids: number[], layer: number, neurons: number[], targets: TargetSpec[]): number[][] {
  const m = randomModel(opts);
  const ref = toReferenceModel(m.description, m.weights);
  const V = m.description.vocab_size;
  const logit = (logits: Float32Array, tg: TargetSpec) =>
    logits[tg.position * V + tg.id]! - (tg.contrast_id === null ? 0 : logits[tg.position * V + tg.contrast_id]!);
  return neurons.map((j) => {
    const { logits } = forward(ref, ids, { neurons: [{ layer, neuron: j }] });
    return targets.map((tg) => logit(logits, tg));
  });
}

describe.skipIf(skipWithoutGpu(gpu))(`NeuronAblation vs reference forward passes (${gpu ? describeAdapter(gpu) : 'no GPU'})`, () => {
  const cases: { name: string; opts: RandomModelOptions; layer: number }[] = [
    {
      name: 'llama, GQA, first layer',
      opts: { family: 'llama', hidden_size: 32, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 24, num_hidden_layers: 3, seed: 3 },
      layer: 0,
    },
    {
      name: 'qwen2 biases, middle layer, bf16',
      opts: {
        family: 'qwen2',
        hidden_size: 24,
        num_attention_heads: 3,
        num_key_value_heads: 1,
        head_dim: 8,
        intermediate_size: 20,
        num_hidden_layers: 3,
        dtype: 'BF16',
        seed: 4,
      },
      layer: 1,
    },
    {
      name: 'qwen3 q/k norm, last layer',
      opts: { family: 'qwen3', hidden_size: 32, num_attention_heads: 4, intermediate_size: 16, num_hidden_layers: 2, seed: 5 },
      layer: 1,
    },
    {
      name: 'gpt2 LayerNorm, learned positions',
      opts: { family: 'gpt2', hidden_size: 32, num_attention_heads: 4, intermediate_size: 20, num_hidden_layers: 2, seed: 6 },
      layer: 0,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const m = randomModel(c.opts);
      const ids = [1, 5, 9, 2, 7, 3];
      const targets: TargetSpec[] = [
        { position: 5, id: 11, contrast_id: null },
        { position: 2, id: 4, contrast_id: 8 },
      ];
      const from = 2;
      const to = 9; // 7 neurons: passes of 3, 3 and 1 copies
      const neurons = Array.from({ length: to - from }, (_, i) => from + i);
      const want = referenceLogits(c.opts, ids, c.layer, neurons, targets);
      const ab = await NeuronAblation.create(gpu!.ctx, m.description, m.weights, loader);
      try {
        const gotClean = await ab.prepare(ids, c.layer, targets);
        const batched = await ab.ablate(from, to, 3);
        const single = await ab.ablate(from, to, 1);
        const scale = Math.max(1, ...want.flat().map(Math.abs));
        const tol = 2e-5 * scale;
        let effect = 0;
        want.forEach((row, j) =>
          row.forEach((w, i) => {
            expect(Math.abs(batched[j * targets.length + i]! - w), `neuron ${neurons[j]} target ${i}, 3 copies`).toBeLessThanOrEqual(tol);
            expect(Math.abs(single[j * targets.length + i]! - w), `neuron ${neurons[j]} target ${i}, 1 copy`).toBeLessThanOrEqual(tol);
            effect = Math.max(effect, Math.abs(w - gotClean[i]!));
          }),
        );
        expect(effect, 'the ablations change the logits').toBeGreaterThan(1e-3);
      } finally {
        ab.destroy();
      }
    });
  }

  it('clean logits equal the reference forward pass', async () => {
    const opts: RandomModelOptions = { family: 'llama', hidden_size: 32, num_hidden_layers: 2, seed: 9 };
    const m = randomModel(opts);
    const ids = [3, 1, 4, 1, 5];
    const targets: TargetSpec[] = [{ position: 4, id: 2, contrast_id: null }];
    const { logits } = forward(toReferenceModel(m.description, m.weights), ids);
    const ab = await NeuronAblation.create(gpu!.ctx, m.description, m.weights, loader);
    try {
      const got = await ab.prepare(ids, 1, targets);
      const want = logits[4 * m.description.vocab_size + 2]!;
      expect(Math.abs(got[0]! - want)).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(want)));
      await expect(ab.ablate(0, 0, 1)).rejects.toThrow(RangeError);
    } finally {
      ab.destroy();
    }
  });
});
