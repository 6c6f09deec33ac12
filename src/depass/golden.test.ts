// The reference engine against outputs of an independent implementation (numpy float64 with
// Hugging Face Llama semantics) for stories260K, from the Hugging Face folder and from the
// llama2.c files. Needs ../shared; says so and skips when it is absent (fails under CI=true).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../model/checkpoint';
import { loadTokenizer } from '../model/tokenizer';
import { filesFromPath } from '../node/files';
import { SHARED, skipWithoutFiles } from '../testing/requirements';
import { CpuBackend } from './cpu-backend';
import { toReferenceModel } from './reference-model';

const shared = SHARED;
const goldenPath = resolve(shared, 'golden/stories260K.json');
const skip = skipWithoutFiles(goldenPath, resolve(shared, 'models/stories260K'));

interface Golden {
  greedy_from_bos: { ids: number[]; text: string };
  last_position_top5: Record<string, { ids: number[]; top_ids: number[]; top_logits: number[] }>;
}

const sources: [string, string, string?][] = [
  ['Hugging Face folder', resolve(shared, 'models/stories260K')],
  ['llama2.c files', resolve(shared, 'models/stories260K/llama2c/stories260K.bin'), resolve(shared, 'models/stories260K/llama2c/tok512.bin')],
];

describe.skipIf(skip).each(sources)('stories260K from the %s on the CPU reference', (_name, path, tok) => {
  const golden = !skip ? (JSON.parse(readFileSync(goldenPath, 'utf8')) as Golden) : null;

  it('matches the golden top-5 logits', async () => {
    const files = await filesFromPath(path, tok);
    const c = await loadCheckpoint(files);
    const backend = new CpuBackend(toReferenceModel(c.description, c.weights));
    for (const [name, g] of Object.entries(golden!.last_position_top5)) {
      const fwd = await backend.forward(g.ids);
      const top = fwd.top[g.ids.length - 1];
      expect(
        top.map((e) => e.id),
        name,
      ).toEqual(g.top_ids);
      top.forEach((e, k) => expect(Math.abs(e.logit - g.top_logits[k]), `${name} #${k}`).toBeLessThan(1e-3));
    }
  });

  it('continues greedily from <s> exactly as the golden text', async () => {
    const files = await filesFromPath(path, tok);
    const c = await loadCheckpoint(files);
    const tokenizer = await loadTokenizer(files);
    const backend = new CpuBackend(toReferenceModel(c.description, c.weights));
    const want = golden!.greedy_from_bos.ids;
    const ids = [want[0]];
    while (ids.length < want.length) {
      const fwd = await backend.forward(ids);
      ids.push(fwd.top[ids.length - 1][0].id);
    }
    expect(ids).toEqual(want);
    expect(tokenizer.decode(ids)).toBe(golden!.greedy_from_bos.text);
  });
});
