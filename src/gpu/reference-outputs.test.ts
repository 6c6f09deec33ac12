// The GPU engine against outputs made outside this project: the golden greedy continuation of
// stories260K (../shared; skipped with a message when absent, failed under CI=true) and the bundled demo models'
// training-framework logits (PyTorch, float64, in public/models/*/reference.json).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TargetSpec } from '../depass/backend';
import { loadCheckpoint } from '../model/checkpoint';
import { loadTokenizer } from '../model/tokenizer';
import { filesFromPath } from '../node/files';
import { SHARED, skipWithoutFiles } from '../testing/requirements';
import { GpuBackend } from './engine';
import { nodeShaderLoader } from './node';
import { describeAdapter, skipWithoutGpu, testGpu } from './testing/gpu-env';

const gpu = await testGpu();
const noGpu = skipWithoutGpu(gpu);
const shared = SHARED;
const goldenPath = resolve(shared, 'golden/stories260K.json');
const noShared = skipWithoutFiles(goldenPath, resolve(shared, 'models/stories260K'));
const adapter = gpu ? describeAdapter(gpu) : 'no GPU';

describe.skipIf(noShared || noGpu)(`stories260K greedy text on the GPU (${adapter})`, () => {
  it('continues greedily from <s> exactly as the golden text', async () => {
    const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as { greedy_from_bos: { ids: number[]; text: string } };
    const files = await filesFromPath(resolve(shared, 'models/stories260K'));
    const c = await loadCheckpoint(files);
    const tokenizer = await loadTokenizer(files);
    const backend = await GpuBackend.create(gpu!.ctx, c.description, c.weights, nodeShaderLoader());
    try {
      const want = golden.greedy_from_bos.ids;
      const ids = [want[0]];
      while (ids.length < want.length) {
        const fwd = await backend.forward(ids);
        ids.push(fwd.top[ids.length - 1][0].id);
      }
      expect(ids).toEqual(want);
      expect(tokenizer.decode(ids)).toBe(golden.greedy_from_bos.text);
    } finally {
      backend.destroy();
    }
  });
});

interface Reference {
  prompts: { name: string; ids: number[]; logits: number[][] }[];
  greedy: { prompt_ids: number[]; new_ids: number[] };
}

const demos = ['demo-llama', 'demo-gpt2'].map((m) => [m, resolve(process.cwd(), 'public/models', m)] as const);

describe.skipIf(noGpu).each(demos)(`%s on the GPU (${adapter})`, (name, dir) => {
  it('reproduces the training framework logits within 1e-4 relative, and its greedy continuation', async () => {
    const ref = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8')) as Reference;
    const c = await loadCheckpoint(await filesFromPath(dir));
    const V = c.description.vocab_size;
    const backend = await GpuBackend.create(gpu!.ctx, c.description, c.weights, nodeShaderLoader());
    try {
      for (const p of ref.prompts) {
        const fwd = await backend.forward(p.ids);
        // Every logit at every position, read through the engine's own target read-out.
        const targets: TargetSpec[] = p.ids.flatMap((_, position) => Array.from({ length: V }, (_, id) => ({ position, id, contrast_id: null })));
        const got = await fwd.targetLogits(targets);
        p.logits.forEach((row, t) => {
          const scale = Math.max(1, ...row.map(Math.abs));
          let worst = 0;
          row.forEach((want, v) => (worst = Math.max(worst, Math.abs(got[t * V + v] - want))));
          expect(worst / scale, `${name} ${p.name} position ${t}`).toBeLessThan(1e-4);
        });
      }
      const ids = [...ref.greedy.prompt_ids];
      for (let k = 0; k < ref.greedy.new_ids.length; k++) {
        const fwd = await backend.forward(ids);
        ids.push(fwd.top[ids.length - 1][0].id);
      }
      expect(ids.slice(ref.greedy.prompt_ids.length)).toEqual(ref.greedy.new_ids);
    } finally {
      backend.destroy();
    }
  });
});
