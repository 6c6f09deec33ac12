// The whole WebGPU engine against the TypeScript reference engine (CpuBackend) through runDepass,
// on small random models of each family and weight dtype: predictions, target logits, every mode's
// scores and completeness, with src/gpu/engine.test.ts's tolerances for the engine's kernel paths on
// this device (src/gpu/testing/tolerances.ts). A compact subset of that test, for the GPU check.

import { CpuBackend } from '../src/depass/cpu-backend';
import { toReferenceModel } from '../src/depass/reference-model';
import type { DepassResult } from '../src/depass/result';
import { runDepass, type RunInput, type RunOptions } from '../src/depass/run';
import type { GpuContext } from '../src/gpu/device';
import { GpuBackend } from '../src/gpu/engine';
import type { ShaderLoader } from '../src/gpu/kernels';
import { randomModel, type RandomModelOptions } from '../src/model/testing/random-model';
import type { Tally } from '../src/gpu/testing/tally';
import { type Tolerance, toleranceFor } from '../src/gpu/testing/tolerances';
import { deviceProfile } from '../src/gpu/tuning';

export interface EngineCheck {
  name: string;
  run(ctx: GpuContext, loader: ShaderLoader, t: Tally): Promise<void>;
}

const maxAbs = (xs: number[]) => xs.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/** Every score of a result, flattened per mode. */
function scoreSets(r: DepassResult): Record<string, number[]> {
  const sets: Record<string, number[]> = {};
  if (r.token) sets.token = [...r.token.scores.flat(), ...r.token.rest];
  if (r.head) sets.head = [...r.head.scores.flat(2), ...r.head.rest.flat()];
  if (r.neuron) sets.neuron = [...r.neuron.scores.flat(), ...r.neuron.rest];
  if (r.module) sets.module = r.module.scores.flat();
  if (r.subspace) sets.subspace = r.subspace.scores.flat();
  return sets;
}

export function compareResults(t: Tally, cpu: DepassResult, gpu: DepassResult, tol: Tolerance): void {
  const logitScale = Math.max(1, maxAbs(cpu.predictions.flatMap((p) => p.top.map((e) => e.logit))));
  cpu.predictions.forEach((p, pos) => {
    const g = gpu.predictions[pos]!.top;
    if (g[0]!.id !== p.top[0]!.id) {
      // A different first choice only as a tie within the tolerance.
      const rival = p.top.find((e) => e.id === g[0]!.id);
      t.ok(rival !== undefined, `top-1 at position ${pos}: the GPU's first choice is among the reference's five`);
      t.within(`top-1 at position ${pos}: gap to the GPU's first choice`, p.top[0]!.logit - rival!.logit, 2 * tol.logits * logitScale);
    }
    for (const e of p.top) {
      const m = g.find((x) => x.id === e.id);
      if (m) t.within(`logit of ${e.id} at ${pos}`, Math.abs(m.logit - e.logit), tol.logits * logitScale);
    }
  });
  t.sameList(
    gpu.targets.map((x) => x.id),
    cpu.targets.map((x) => x.id),
    'target ids',
  );
  cpu.targets.forEach((tg, i) => t.within(`target logit ${i}`, Math.abs(gpu.targets[i]!.logit - tg.logit), tol.logits * logitScale));
  const a = scoreSets(cpu);
  const b = scoreSets(gpu);
  t.sameList(Object.keys(b).sort(), Object.keys(a).sort(), 'modes');
  for (const [mode, want] of Object.entries(a)) {
    const got = b[mode]!;
    t.equal(got.length, want.length, `${mode}: number of scores`);
    const scale = Math.max(1e-6, maxAbs(want));
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    t.within(`${mode}: worst |gpu - cpu| / max |score|`, worst / scale, tol.scores);
  }
  t.within('completeness on the GPU', gpu.completeness.max_abs_error, tol.completeness * logitScale);
}

function inputFor(model: ReturnType<typeof randomModel>, ids: number[], bosAtZero: boolean): RunInput {
  return {
    model: { name: model.description.name, fingerprint: 'gpu-check', description: model.description },
    prompt: ids.join(' '),
    tokens: ids.map((id, i) => ({ id, text: `t${id}`, start: i, end: i + 1 })),
    bosAtZero,
  };
}

const CASES: { name: string; model: RandomModelOptions; ids: number[]; bosAtZero?: boolean; options?: Partial<RunOptions> }[] = [
  { name: 'llama f32, GQA, BOS rule', model: { family: 'llama', seed: 3 }, ids: [1, 17, 5, 40, 9, 33], bosAtZero: true },
  {
    name: 'llama bf16, attention and MLP biases, proportional rule',
    model: { family: 'llama', dtype: 'BF16', attention_bias: true, mlp_bias: true, seed: 4 },
    ids: [1, 2, 3, 60, 61],
    options: { rule: 'proportional' },
  },
  { name: 'mistral f16, untied, 3 layers', model: { family: 'mistral', dtype: 'F16', seed: 5, num_hidden_layers: 3 }, ids: [7, 8, 9, 10, 11, 12, 13] },
  { name: 'qwen2 bf16, q/k/v biases, contrast target', model: { family: 'qwen2', dtype: 'BF16', seed: 6 }, ids: [3, 14, 15, 9, 2], options: { contrast: 5 } },
  {
    name: 'qwen3 f16, q/k norm, head_dim != D/H',
    model: { family: 'qwen3', dtype: 'F16', seed: 7, hidden_size: 24, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 10, intermediate_size: 37 },
    ids: [4, 5, 6, 7, 8, 20],
  },
  { name: 'gpt2 f32, LayerNorm, learned positions', model: { family: 'gpt2', seed: 8, hidden_size: 24, num_attention_heads: 3 }, ids: [10, 20, 30, 40, 50] },
  // Wide enough that every kernel runs several workgroups and the matmuls more than one tile
  // (neuron and subspace modes left out: the reference would take minutes on this size).
  {
    name: 'llama f16, D = 192, I = 520, 24 tokens, token, head and module modes',
    model: {
      family: 'llama',
      dtype: 'F16',
      seed: 10,
      hidden_size: 192,
      num_attention_heads: 6,
      num_key_value_heads: 2,
      intermediate_size: 520,
      vocab_size: 3000,
    },
    ids: Array.from({ length: 24 }, (_, i) => (i * 37 + 1) % 3000),
    options: { modes: ['token', 'head', 'module'] },
  },
];

export const ENGINE_CHECKS: EngineCheck[] = CASES.map((c) => ({
  name: c.name,
  run: async (ctx, loader, t) => {
    const model = randomModel(c.model);
    const input = inputFor(model, c.ids, c.bosAtZero ?? false);
    const options: RunOptions = { modes: ['token', 'head', 'neuron', 'module', 'subspace'], layer: 0, neuronGroup: 17, ...c.options };
    const cpu = await runDepass(new CpuBackend(toReferenceModel(model.description, model.weights)), input, options);
    const backend = await GpuBackend.create(ctx, model.description, model.weights, loader);
    try {
      const got = await runDepass(backend, input, options);
      t.equal(got.engine?.backend, 'webgpu', 'engine');
      const tol = toleranceFor(await deviceProfile(ctx, loader), model.description);
      compareResults(t, cpu, got, tol);
      // The head map in one pass, every layer's heads joining at their own layer.
      const map: RunOptions = { ...options, modes: ['head'], headMap: 'one-pass' };
      compareResults(
        t,
        await runDepass(new CpuBackend(toReferenceModel(model.description, model.weights)), input, map),
        await runDepass(backend, input, map),
        tol,
      );
    } finally {
      backend.destroy();
    }
  },
}));
