// The bundled demo models against their training framework's own outputs (PyTorch, float64
// forward of the exported float32 weights, saved in reference.json beside each model).

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../model/checkpoint';
import { loadTokenizer } from '../model/tokenizer';
import { filesFromPath } from '../node/files';
import { CpuBackend } from './cpu-backend';
import { forward } from './forward';
import { toReferenceModel } from './reference-model';

interface Reference {
  prompts: { name: string; text: string; ids: number[]; logits: number[][] }[];
  greedy: { prompt: string; prompt_ids: number[]; new_ids: number[] };
}

const models = ['demo-llama', 'demo-gpt2'].map((m) => [m, resolve(process.cwd(), 'public/models', m)] as const);

describe.each(models)('%s on the CPU reference engine', (name, dir) => {
  it('is bundled', () => expect(existsSync(resolve(dir, 'reference.json')), `${dir}/reference.json`).toBe(true));

  it('reproduces the training framework logits within 1e-4 relative, and its tokenizer ids', async () => {
    const ref = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8')) as Reference;
    const files = await filesFromPath(dir);
    const c = await loadCheckpoint(files);
    const tokenizer = await loadTokenizer(files);
    const model = toReferenceModel(c.description, c.weights);
    const V = c.description.vocab_size;
    expect(ref.prompts.length).toBeGreaterThan(0);
    for (const p of ref.prompts) {
      expect(
        tokenizer.encode(p.text).map((t) => t.id),
        `${name}: ids of ${p.name}`,
      ).toEqual(p.ids);
      const rec = forward(model, p.ids);
      p.logits.forEach((row, t) => {
        const scale = Math.max(1, ...row.map(Math.abs));
        let worst = 0;
        row.forEach((want, v) => (worst = Math.max(worst, Math.abs(rec.logits[t * V + v] - want))));
        expect(worst / scale, `${name} ${p.name} position ${t}`).toBeLessThan(1e-4);
      });
    }
  });

  it('continues greedily as the training framework did', async () => {
    const ref = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8')) as Reference;
    const c = await loadCheckpoint(await filesFromPath(dir));
    const backend = new CpuBackend(toReferenceModel(c.description, c.weights));
    const ids = [...ref.greedy.prompt_ids];
    for (let k = 0; k < ref.greedy.new_ids.length; k++) {
      const fwd = await backend.forward(ids);
      ids.push(fwd.top[ids.length - 1][0].id);
    }
    expect(ids.slice(ref.greedy.prompt_ids.length)).toEqual(ref.greedy.new_ids);
  });
});
