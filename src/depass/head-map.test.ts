// The one-pass head map (every layer's heads joining one pass at their own layer) in the reference
// engine, on random tiny models of every family: after every layer the components sum to the real
// residual and the heads of later layers are still exactly zero; under the proportional rule (the
// pass is then linear in the components) every head's score and every layer's rest equal the
// per-layer map's; under the softmax rule the scores are complete and close to it.

import { describe, expect, it } from 'vitest';
import { dims, type ModelDescription } from '../model/description';
import { FAMILY_CASES } from '../model/testing/family-cases';
import { randomModel, type RandomModelOptions } from '../model/testing/random-model';
import { headMapComponents, joinAt } from './components';
import { CpuBackend } from './cpu-backend';
import { type CpuPass, decomposedLayer } from './decomposed';
import { forward } from './forward';
import { activeRows, planPass } from './plan';
import { residualAfter } from './record';
import { toReferenceModel } from './reference-model';
import type { DepassResult, Rule } from './result';
import { runDepass } from './run';

const cases: [string, RandomModelOptions][] = [
  ['llama GQA f32', { family: 'llama', seed: 1 }],
  ['llama with attention and MLP biases', { family: 'llama', attention_bias: true, mlp_bias: true, seed: 2 }],
  ['gpt2 (LayerNorm, learned positions)', { family: 'gpt2', seed: 6 }],
  ...FAMILY_CASES.map((c): [string, RandomModelOptions] => [c.name, c.model]),
];

const maxAbs = (xs: ArrayLike<number>) => Array.from(xs).reduce((m, x) => Math.max(m, Math.abs(x)), 0);

async function headMap(
  cfg: ModelDescription,
  model: ReturnType<typeof toReferenceModel>,
  ids: number[],
  rule: Rule,
  form: 'per-layer' | 'one-pass',
): Promise<DepassResult> {
  const tokens = ids.map((id, i) => ({ id, text: `t${id}`, start: i, end: i + 1 }));
  return runDepass(
    new CpuBackend(model),
    { model: { name: 'r', fingerprint: 'x', description: cfg }, prompt: '', tokens, bosAtZero: false },
    { modes: ['head'], rule, headMap: form, positions: [0, ids.length - 1] },
  );
}

describe.each(cases)('one-pass head map on a random %s model', (_name, opts) => {
  const { description: cfg, weights } = randomModel(opts);
  const model = toReferenceModel(cfg, weights);
  const ids = [3, 9, 27, 17, 51, 42, 11];
  const { D, L, H } = dims(cfg);
  const T = ids.length;

  it('sums to the real residual after every layer, with later layers’ heads still zero', () => {
    const rec = forward(model, ids);
    const plan = planPass(cfg, T, { kind: 'head_map' }, false);
    expect(plan.M).toBe(L * H + 1);
    const pass: CpuPass = { plan, T, D, data: headMapComponents(model, rec), rows: activeRows(plan, T) };
    const block = T * D;
    for (let l = 0; l < L; l++) {
      decomposedLayer(model, l, rec.layers[l], pass, { rule: 'softmax', tau: 0.1 }, () => joinAt(model, rec, plan, l, pass.data));
      const want = residualAfter(rec, l);
      const sum = new Float64Array(block);
      for (let m = 0; m < plan.M; m++) for (let i = 0; i < block; i++) sum[i] += pass.data[m * block + i];
      let worst = 0;
      for (let i = 0; i < block; i++) worst = Math.max(worst, Math.abs(sum[i] - want[i]));
      expect(worst, `layer ${l}: |sum of components - residual|`).toBeLessThan(1e-4 * Math.max(1, maxAbs(want)));
      expect(maxAbs(pass.data.subarray((1 + (l + 1) * H) * block)), `heads after layer ${l}`).toBe(0);
      expect(maxAbs(pass.data.subarray((1 + l * H) * block, (1 + (l + 1) * H) * block)), `heads of layer ${l}`).toBeGreaterThan(0);
    }
  });

  it('equals the per-layer map under the proportional rule, and is complete and close under softmax', async () => {
    for (const rule of ['proportional', 'softmax'] as const) {
      const one = await headMap(cfg, model, ids, rule, 'one-pass');
      const per = await headMap(cfg, model, ids, rule, 'per-layer');
      expect(one.head!.form).toBe('one-pass');
      expect(per.head!.form).toBeUndefined();
      const logitScale = Math.max(1, ...one.targets.map((t) => Math.abs(t.logit)));
      expect(one.completeness.max_abs_error).toBeLessThan(1e-4 * logitScale);
      const a = one.head!.scores.flat(2);
      const b = per.head!.scores.flat(2);
      const scale = maxAbs(b);
      const diff = maxAbs(a.map((x, i) => x - b[i]!));
      if (rule === 'proportional') {
        expect(diff, 'head scores').toBeLessThan(1e-4 * scale);
        const restDiff = maxAbs(one.head!.rest.flat().map((x, i) => x - per.head!.rest.flat()[i]!));
        expect(restDiff, 'rest per layer').toBeLessThan(1e-4 * logitScale);
      } else {
        // Later MLPs share among more components; the maps differ, but not wholesale.
        expect(diff, 'head scores under softmax').toBeLessThan(0.5 * scale);
      }
      // Either form: a layer's heads and its rest make up the target logit.
      one.targets.forEach((tg, i) =>
        one.head!.scores[i]!.forEach((heads, l) =>
          expect(Math.abs(heads.reduce((s, x) => s + x, 0) + one.head!.rest[i]![l]! - tg.logit)).toBeLessThan(1e-6 * logitScale),
        ),
      );
    }
  });
});
