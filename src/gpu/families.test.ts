// The WebGPU engine against the official modelling code on the families' fixtures (as
// src/depass/families.test.ts does for the reference engine): every position's five highest
// logits as the model reports them (after Gemma 2's final cap), the target logits before the cap,
// and every head's attention pattern, within 1e-4.

import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../model/checkpoint';
import { FAMILY_FIXTURES, fixtureCases, fixtureFiles, fixtureReference } from '../model/testing/family-fixtures';
import { skipWithoutFiles } from '../testing/requirements';
import { GpuBackend } from './engine';
import { nodeShaderLoader } from './node';
import { describeAdapter, skipWithoutGpu, testGpu } from './testing/gpu-env';

const gpu = await testGpu();
const missing = skipWithoutGpu(gpu) || skipWithoutFiles(`${FAMILY_FIXTURES}/index.json`);

describe.skipIf(missing)(`GPU engine vs the reference library, every family (${gpu ? describeAdapter(gpu) : 'no GPU'})`, () => {
  for (const name of fixtureCases()) {
    it(name, async () => {
      const ref = fixtureReference(name);
      const ck = await loadCheckpoint(await fixtureFiles(name));
      const engine = await GpuBackend.create(gpu!.ctx, ck.description, ck.weights, nodeShaderLoader());
      try {
        for (const p of ref.prompts) {
          const T = p.input_ids.length;
          const fwd = await engine.forward(p.input_ids);
          const scale = Math.max(...p.logits.flat().map(Math.abs));
          for (let t = 0; t < T; t++) {
            for (const e of fwd.top[t]!) expect(Math.abs(e.logit - p.logits[t]![e.id]!) / scale, `top logit of ${e.id} at ${t}`).toBeLessThan(1e-4);
            // The engine's first choice is the library's (or ties with it within the tolerance).
            const best = Math.max(...p.logits[t]!);
            expect((best - p.logits[t]![fwd.top[t]![0]!.id]!) / scale).toBeLessThan(1e-4);
          }
          const preCap = p.logits_pre_cap ?? p.logits;
          const targets = [0, T - 1].map((position) => ({ position, id: 3, contrast_id: null }));
          (await fwd.targetLogits(targets)).forEach((z, i) =>
            expect(Math.abs(z - preCap[targets[i]!.position]![3]!) / scale, 'pre-cap target logit').toBeLessThan(1e-4),
          );
          for (let l = 0; l < p.attentions.length; l++) {
            for (let h = 0; h < p.attentions[l]!.length; h++) {
              const A = await engine.attentionPattern(l, h);
              const want = p.attentions[l]![h]!.flat();
              let worst = 0;
              want.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - A[i]!))));
              expect(worst, `attention layer ${l} head ${h}`).toBeLessThan(1e-4);
            }
          }
        }
      } finally {
        engine.destroy();
      }
    });
  }
});
