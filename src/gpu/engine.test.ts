// The WebGPU engine against the TypeScript reference engine (CpuBackend) on random tiny models of
// every family and weight dtype: forward logits, every attribution mode's scores, the per-layer
// read-out, the logit lens and completeness, all through runDepass; plus ablation, progress,
// cancellation and the memory preflight.

import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../depass/cpu-backend';
import { toReferenceModel } from '../depass/reference-model';
import type { DepassResult } from '../depass/result';
import { runDepass, type RunInput, type RunOptions } from '../depass/run';
import type { ModelDescription } from '../model/description';
import { FAMILY_CASES } from '../model/testing/family-cases';
import { randomModel, type RandomModelOptions } from '../model/testing/random-model';
import { GpuBackend } from './engine';
import { estimateMemory, GpuMemoryError } from './memory';
import { nodeShaderLoader } from './node';
import { describeAdapter, skipWithoutGpu, testGpu, type TestGpu } from './testing/gpu-env';
import { EXACT, type Tolerance, toleranceFor } from './testing/tolerances';

const gpu = await testGpu();
const loader = nodeShaderLoader();

function inputFor(opts: RandomModelOptions, ids: number[], bosAtZero: boolean): { input: RunInput; model: ReturnType<typeof randomModel> } {
  const model = randomModel(opts);
  const input: RunInput = {
    model: { name: model.description.name, fingerprint: 'test', description: model.description },
    prompt: ids.join(' '),
    tokens: ids.map((id, i) => ({ id, text: `t${id}`, start: i, end: i + 1 })),
    bosAtZero,
  };
  return { input, model };
}

function maxAbs(xs: number[]): number {
  return xs.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
}

/** Every score array of a result, flattened per mode (and per layer detail). */
function scoreSets(r: DepassResult): Record<string, number[]> {
  const sets: Record<string, number[]> = {};
  if (r.token) {
    sets.token = [...r.token.scores.flat(), ...r.token.rest];
    if (r.token.by_layer) sets.token_by_layer = [...r.token.by_layer.flat(2), ...r.token.rest_by_layer!.flat()];
  }
  if (r.head) sets.head = [...r.head.scores.flat(2), ...r.head.rest.flat()];
  if (r.neuron) sets.neuron = [...r.neuron.scores.flat(), ...r.neuron.rest];
  if (r.module) sets.module = r.module.scores.flat();
  if (r.subspace) sets.subspace = r.subspace.scores.flat();
  return sets;
}

function compareResults(cpu: DepassResult, gpuR: DepassResult, tol: Tolerance = EXACT): void {
  // Forward pass: the same predictions (or a tie within the tolerance), logits within tol.logits of the logit scale.
  const logitScale = Math.max(1, maxAbs(cpu.predictions.flatMap((p) => p.top.map((e) => e.logit))));
  cpu.predictions.forEach((p, t) => {
    const g = gpuR.predictions[t]!.top;
    if (g[0]!.id !== p.top[0]!.id) {
      const rival = p.top.find((e) => e.id === g[0]!.id);
      expect(rival, `top-1 at position ${t}: the GPU's first choice is not among the reference's five`).toBeDefined();
      expect(p.top[0]!.logit - rival!.logit, `top-1 at position ${t} differs by more than a tie`).toBeLessThanOrEqual(2 * tol.logits * logitScale);
    }
    for (const e of p.top) {
      const m = g.find((x) => x.id === e.id);
      if (m) expect(Math.abs(m.logit - e.logit), `logit of ${e.id} at ${t}`).toBeLessThanOrEqual(tol.logits * logitScale);
    }
  });
  expect(gpuR.targets.map((t) => t.id)).toEqual(cpu.targets.map((t) => t.id));
  cpu.targets.forEach((tg, i) => expect(Math.abs(gpuR.targets[i]!.logit - tg.logit)).toBeLessThanOrEqual(tol.logits * logitScale));

  // Every attribution score within tol.scores of the largest |score| of its mode.
  const a = scoreSets(cpu);
  const b = scoreSets(gpuR);
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const [mode, want] of Object.entries(a)) {
    const got = b[mode]!;
    expect(got.length, mode).toBe(want.length);
    const scale = Math.max(1e-6, maxAbs(want));
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst / scale, `${mode}: worst |gpu - cpu| / max |score|`).toBeLessThanOrEqual(tol.scores);
  }
  if (cpu.neuron) expect(gpuR.neuron!.group_size).toBe(cpu.neuron.group_size);

  // Completeness on the GPU: scores sum to the target logit.
  expect(gpuR.completeness.max_abs_error).toBeLessThanOrEqual(tol.completeness * logitScale);

  // Logit lens: the same top-1 token after every layer.
  if (cpu.logit_lens) {
    cpu.logit_lens.forEach((byLayer, t) =>
      byLayer.forEach((top, l) => expect(gpuR.logit_lens![t]![l]![0]!.id, `lens top-1 at t=${t} l=${l}`).toBe(top[0]!.id)),
    );
  }
}

interface Case {
  name: string;
  model: RandomModelOptions;
  ids: number[];
  bosAtZero?: boolean;
  options?: Partial<RunOptions>;
}

const ALL_MODES: RunOptions['modes'] = ['token', 'head', 'neuron', 'module', 'subspace'];

const cases: Case[] = [
  { name: 'llama f32, GQA, BOS rule', model: { family: 'llama', seed: 3 }, ids: [1, 17, 5, 40, 9, 33], bosAtZero: true },
  {
    name: 'llama bf16 with attention and MLP biases, proportional rule',
    model: { family: 'llama', dtype: 'BF16', attention_bias: true, mlp_bias: true, seed: 4 },
    ids: [1, 2, 3, 60, 61],
    options: { rule: 'proportional' },
  },
  { name: 'mistral f16, untied', model: { family: 'mistral', dtype: 'F16', seed: 5, num_hidden_layers: 3 }, ids: [7, 8, 9, 10, 11, 12, 13] },
  {
    name: 'qwen2 bf16 with q/k/v biases, contrast target',
    model: { family: 'qwen2', dtype: 'BF16', seed: 6 },
    ids: [3, 14, 15, 9, 2],
    options: { contrast: 5 },
  },
  {
    name: 'qwen3 f16, q/k norm, head_dim != D/H, fixed target at the last position',
    model: { family: 'qwen3', dtype: 'F16', seed: 7, hidden_size: 24, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 10, intermediate_size: 37 },
    ids: [4, 5, 6, 7, 8, 20],
    options: { target: 11, positions: 'last' },
  },
  {
    name: 'gpt2 f32, LayerNorm, learned positions, tied',
    model: { family: 'gpt2', seed: 8, hidden_size: 24, num_attention_heads: 3 },
    ids: [10, 20, 30, 40, 50],
  },
  { name: 'one token', model: { family: 'llama', dtype: 'F16', seed: 9 }, ids: [1] },
  ...FAMILY_CASES.map((c, k): Case => ({
    name: c.name,
    model: c.model,
    ids: [3, 9, 27, 17, 51, 42, 11],
    options: k % 3 === 1 ? { rule: 'proportional' } : k % 3 === 2 ? { contrast: 5 } : {},
  })),
];

/** Runs every mode of a case on the reference and on an engine of `on`, and compares them within `tol`. */
async function checkCase(on: TestGpu, c: Case, tol: (cfg: ModelDescription) => Tolerance): Promise<void> {
  const { input, model } = inputFor(c.model, c.ids, c.bosAtZero ?? false);
  const options: RunOptions = { modes: ALL_MODES, layerDetail: true, layer: 0, neuronGroup: 17, ...c.options };
  const cpu = await runDepass(new CpuBackend(toReferenceModel(model.description, model.weights)), input, options);
  const backend = await GpuBackend.create(on.ctx, model.description, model.weights, loader);
  try {
    const got = await runDepass(backend, input, options);
    compareResults(cpu, got, tol(model.description));
    expect(got.engine?.backend).toBe('webgpu');
    // A second mode at the last layer (neurons all in one group, module and subspace there).
    const L = model.description.num_hidden_layers;
    const more: RunOptions = { modes: ['neuron', 'module', 'subspace'], layer: L - 1, neuronGroup: model.description.intermediate_size, ...c.options };
    const cpu2 = await runDepass(new CpuBackend(toReferenceModel(model.description, model.weights)), input, more);
    compareResults(cpu2, await runDepass(backend, input, more), tol(model.description));
    // The head map in one pass (every layer's heads joining at their own layer).
    const map: RunOptions = { modes: ['head'], headMap: 'one-pass', ...c.options };
    const cpu3 = await runDepass(new CpuBackend(toReferenceModel(model.description, model.weights)), input, map);
    const got3 = await runDepass(backend, input, map);
    expect(got3.head!.form).toBe('one-pass');
    compareResults(cpu3, got3, tol(model.description));
  } finally {
    backend.destroy();
  }
}

describe.skipIf(skipWithoutGpu(gpu))(`GPU engine vs reference engine (${gpu ? describeAdapter(gpu) : 'no GPU'})`, () => {
  for (const c of cases) it(c.name, () => checkCase(gpu!, c, () => EXACT));

  it('ablating a head and a neuron changes the forward pass exactly as in the reference', async () => {
    const { model } = inputFor({ family: 'qwen2', seed: 12 }, [], false);
    const ids = [5, 6, 7, 8];
    const ablation = {
      heads: [{ layer: 0, head: 1 }],
      neurons: [
        { layer: 1, neuron: 3 },
        { layer: 1, neuron: 40 },
      ],
    };
    const cpu = new CpuBackend(toReferenceModel(model.description, model.weights));
    const backend = await GpuBackend.create(gpu!.ctx, model.description, model.weights, loader);
    try {
      const want = await cpu.forward(ids, { ablation });
      const plain = await cpu.forward(ids);
      const got = await backend.forward(ids, { ablation });
      const targets = ids.map((_, position) => ({ position, id: 9, contrast_id: null }));
      const w = await want.targetLogits(targets);
      const g = await got.targetLogits(targets);
      const p = await plain.targetLogits(targets);
      expect(maxAbs(w.map((x, i) => x - p[i]!))).toBeGreaterThan(1e-3); // the ablation matters
      expect(maxAbs(w.map((x, i) => x - g[i]!))).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(w)));
      // The recorded attention pattern of a head is a causal softmax: rows sum to one.
      const A = await backend.attentionPattern(0, 1);
      for (let q = 0; q < ids.length; q++) {
        let s = 0;
        for (let k = 0; k < ids.length; k++) s += A[q * ids.length + k]!;
        expect(Math.abs(s - 1)).toBeLessThan(1e-5);
        expect(A[q * ids.length + ids.length - 1]! === 0 || q === ids.length - 1).toBe(true);
      }
    } finally {
      backend.destroy();
    }
  });

  it('overlapping calls run one after another (a forward pass waits for a running attribution)', async () => {
    const { model } = inputFor({ family: 'llama', seed: 15 }, [], false);
    const backend = await GpuBackend.create(gpu!.ctx, model.description, model.weights, loader);
    const cpu = new CpuBackend(toReferenceModel(model.description, model.weights));
    try {
      await backend.forward([1, 2, 3, 4]);
      await cpu.forward([1, 2, 3, 4]);
      const targets = [{ position: 3, id: 7, contrast_id: null }];
      const opts = { rule: 'softmax' as const, tau: 0.1, bosAtZero: false };
      // Not awaited in between: the second forward must not free the first one's record under it.
      const [scores] = await Promise.all([backend.attribute({ kind: 'token' }, targets, opts), backend.forward([9, 8])]);
      const want = await cpu.attribute({ kind: 'token' }, targets, opts);
      const scale = Math.max(...Array.from(want.scores, Math.abs));
      want.scores.forEach((w, i) => expect(Math.abs(scores.scores[i]! - w)).toBeLessThanOrEqual(1e-3 * scale));
    } finally {
      backend.destroy();
    }
  });

  it('reports progress per layer and stops between layers when cancelled', async () => {
    const { model } = inputFor({ family: 'llama', seed: 13, num_hidden_layers: 3 }, [], false);
    const backend = await GpuBackend.create(gpu!.ctx, model.description, model.weights, loader);
    try {
      await backend.forward([1, 2, 3]);
      const targets = [{ position: 2, id: 4, contrast_id: null }];
      const seen: number[] = [];
      await backend.attribute({ kind: 'token' }, targets, { rule: 'softmax', tau: 0.1, bosAtZero: false, onLayer: (l, of) => seen.push(l * 10 + of) });
      expect(seen).toEqual([3, 13, 23]);
      const ctl = new AbortController();
      const run = backend.attribute({ kind: 'token' }, targets, {
        rule: 'softmax',
        tau: 0.1,
        bosAtZero: false,
        signal: ctl.signal,
        onLayer: (l) => {
          if (l === 0) ctl.abort();
        },
      });
      await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      backend.destroy();
    }
  });

  it('refuses a run that does not fit, saying what to reduce, before allocating', async () => {
    const { model } = inputFor({ family: 'llama', seed: 14 }, [], false);
    const backend = await GpuBackend.create(gpu!.ctx, model.description, model.weights, loader, { memoryBudget: 200_000 });
    try {
      await expect(backend.forward(Array.from({ length: 60 }, (_, i) => i))).rejects.toThrow(GpuMemoryError);
      await expect(backend.forward(Array.from({ length: 60 }, (_, i) => i))).rejects.toThrow(/fewer tokens/);
      await backend.forward([1, 2, 3]);
      const I = model.description.intermediate_size;
      expect(backend.maxComponents(3)).toBeGreaterThanOrEqual(2);
      await expect(
        backend.attribute({ kind: 'neuron', layer: 0, from: 0, to: I }, [{ position: 0, id: 1, contrast_id: null }], {
          rule: 'softmax',
          tau: 0.1,
          bosAtZero: false,
        }),
      ).resolves.toBeDefined();
      // A budget that holds the forward pass of 3 tokens but not C and its normalised copy for all neurons.
      const fwd = estimateMemory(model.description, 3, null).forward;
      const components = 2 * (I + 1) * 3 * model.description.hidden_size * 4;
      const big = await GpuBackend.create(gpu!.ctx, model.description, model.weights, loader, { memoryBudget: fwd + components / 2 });
      try {
        await big.forward([1, 2, 3]);
        await expect(
          big.attribute({ kind: 'neuron', layer: 0, from: 0, to: I }, [{ position: 0, id: 1, contrast_id: null }], {
            rule: 'softmax',
            tau: 0.1,
            bosAtZero: false,
          }),
        ).rejects.toThrow(/smaller neuron group/);
        // maxComponents stays within that budget: a group of maxComponents - 1 neurons runs.
        const G = big.maxComponents(3) - 1;
        expect(G).toBeLessThan(I);
        await expect(
          big.attribute({ kind: 'neuron', layer: 0, from: 0, to: G }, [{ position: 0, id: 1, contrast_id: null }], {
            rule: 'softmax',
            tau: 0.1,
            bosAtZero: false,
          }),
        ).resolves.toMatchObject({ M: G + 1 });
      } finally {
        big.destroy();
      }
    } finally {
      backend.destroy();
    }
  });
});

// The engine's other kernel paths on the same cases: everything the adapter offers (F16 weights
// multiplied as f16 where it has shader-f16, subgroup reductions), and neither (the fallbacks).
for (const paths of ['offered', 'fallback'] as const) {
  const on = await testGpu(paths);
  describe.skipIf(skipWithoutGpu(on))(`GPU engine vs reference engine, ${paths} paths (${on ? describeAdapter(on) : 'no GPU'})`, () => {
    for (const c of cases) it(c.name, () => checkCase(on!, c, (cfg) => toleranceFor(on!.profile, cfg)));
  });
}
