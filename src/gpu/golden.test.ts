// The GPU engine on a real trained model (stories260K, from ../shared): forward logits against
// the outputs of an independent float64 implementation, and a full attribution run (every mode,
// BOS rule, layer detail) against the reference engine. Needs ../shared and a WebGPU adapter;
// says so and skips when either is absent (fails under CI=true).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../depass/cpu-backend';
import { toReferenceModel } from '../depass/reference-model';
import { runDepass, type RunOptions } from '../depass/run';
import { loadCheckpoint } from '../model/checkpoint';
import { filesFromPath } from '../node/files';
import { SHARED, skipWithoutFiles } from '../testing/requirements';
import { GpuBackend } from './engine';
import { nodeShaderLoader } from './node';
import { describeAdapter, skipWithoutGpu, testGpu } from './testing/gpu-env';

const shared = SHARED;
const goldenPath = resolve(shared, 'golden/stories260K.json');
const noShared = skipWithoutFiles(goldenPath, resolve(shared, 'models/stories260K'));
const gpu = await testGpu();
const noGpu = skipWithoutGpu(gpu);

interface Golden {
  last_position_top5: Record<string, { ids: number[]; top_ids: number[]; top_logits: number[] }>;
}

describe.skipIf(noShared || noGpu)(`stories260K on the GPU (${gpu ? describeAdapter(gpu) : 'no GPU'})`, () => {
  it('matches the golden top-5 logits and the reference engine on every mode', async () => {
    const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as Golden;
    const c = await loadCheckpoint(await filesFromPath(resolve(shared, 'models/stories260K')));
    const backend = await GpuBackend.create(gpu!.ctx, c.description, c.weights, nodeShaderLoader());
    try {
      for (const [name, g] of Object.entries(golden.last_position_top5)) {
        const fwd = await backend.forward(g.ids);
        const top = fwd.top[g.ids.length - 1]!;
        expect(
          top.map((e) => e.id),
          name,
        ).toEqual(g.top_ids);
        top.forEach((e, k) => expect(Math.abs(e.logit - g.top_logits[k]!), `${name} #${k}`).toBeLessThan(1e-3));
      }

      const ids = golden.last_position_top5.lily_sentence!.ids;
      const input = {
        model: { name: 'stories260K', fingerprint: 'golden', description: c.description },
        prompt: '',
        tokens: ids.map((id, i) => ({ id, text: String(id), start: i, end: i })),
        bosAtZero: true,
      };
      const options: RunOptions = { modes: ['token', 'head', 'neuron', 'module', 'subspace'], layer: 2, positions: [5, ids.length - 1], layerDetail: true };
      const cpuBackend = new CpuBackend(toReferenceModel(c.description, c.weights));
      const want = await runDepass(cpuBackend, input, { ...options, neuronGroup: cpuBackend.maxComponents(ids.length) - 1 });
      const got = await runDepass(backend, input, { ...options, neuronGroup: cpuBackend.maxComponents(ids.length) - 1 });
      const flat = (r: typeof want) => [
        ...r.token!.scores.flat(),
        ...r.token!.rest,
        ...r.token!.by_layer!.flat(2),
        ...r.head!.scores.flat(2),
        ...r.head!.rest.flat(),
        ...r.neuron!.scores.flat(),
        ...r.module!.scores.flat(),
        ...r.subspace!.scores.flat(),
      ];
      const a = flat(want);
      const b = flat(got);
      const scale = a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      const worst = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
      expect(worst / scale).toBeLessThan(1e-3);
      expect(got.completeness.max_abs_error).toBeLessThan(1e-4 * Math.max(1, Math.abs(got.targets[0]!.logit)));
    } finally {
      backend.destroy();
    }
  });
});
