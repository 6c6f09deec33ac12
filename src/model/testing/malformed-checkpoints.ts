// Shared by the malformed-checkpoint tests (checkpoint.malformed-*.test.ts): the tiny valid
// checkpoints their cases mutate, and the suite that runs each case through loadCheckpoint and
// checks how it is refused. Not the cases themselves.

import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../checkpoint';
import { ModelFormatError } from '../errors';
import type { ModelFile } from '../files';
import { randomModel } from './random-model';
import { toHfFiles } from './serialize';

export interface Case {
  name: string;
  files: ModelFile[];
  /** A path the error message must contain. */
  file: string;
}

export const blobFile = (path: string, bytes: Uint8Array<ArrayBuffer> | string): ModelFile => ({ path, blob: new Blob([bytes]) });

// Base checkpoints, built synchronously so cases can be listed before the tests run.
const llama = randomModel({ family: 'llama', num_hidden_layers: 2, vocab_size: 40, hidden_size: 16, num_attention_heads: 4, intermediate_size: 24, seed: 3 });
export const llamaFiles = toHfFiles(llama.description, llama.weights, { folder: 'tiny' });
const gpt2 = randomModel({
  family: 'gpt2',
  num_hidden_layers: 1,
  vocab_size: 30,
  hidden_size: 8,
  num_attention_heads: 2,
  max_position_embeddings: 8,
  dtype: 'F16',
  seed: 4,
});
export const gpt2Files = toHfFiles(gpt2.description, gpt2.weights, { folder: 'g', gpt2Buffers: true });

export const CONFIG = 'tiny/config.json';
export const WEIGHTS = 'tiny/model.safetensors';

const HANG = Symbol('hang');

/**
 * Runs every case: each must be refused by loadCheckpoint with a one-line ModelFormatError naming
 * `case.file`, within a second, never by hanging. With `atLeast`, also checks the corpus size.
 */
export function describeMalformed(title: string, cases: Case[], atLeast?: number): void {
  const timings: number[] = [];
  describe(`${title} (${cases.length} cases)`, () => {
    if (atLeast !== undefined) {
      it(`has at least ${atLeast} cases`, () => {
        expect(cases.length).toBeGreaterThanOrEqual(atLeast);
      });
    }

    for (const c of cases) {
      it(c.name, async () => {
        const start = performance.now();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const hang = new Promise<typeof HANG>((ok) => (timer = setTimeout(() => ok(HANG), 2000)));
        const outcome = await Promise.race([
          loadCheckpoint(c.files).then(
            () => 'loaded' as const,
            (e: unknown) => e,
          ),
          hang,
        ]);
        clearTimeout(timer);
        const ms = performance.now() - start;
        timings.push(ms);
        expect(outcome, 'hung').not.toBe(HANG);
        expect(outcome, 'loaded without error').not.toBe('loaded');
        if (!(outcome instanceof ModelFormatError)) throw new Error(`expected ModelFormatError, got ${String(outcome)}`);
        if (process.env['SHOW_MODEL_ERRORS']) console.log(`${c.name}\n    -> [${outcome.code}] ${outcome.message}`);
        expect(outcome.message, outcome.message).toContain(c.file);
        expect(outcome.message).not.toContain('\n');
        expect(ms, `took ${ms} ms`).toBeLessThan(1000);
      });
    }
  });

  afterAll(() => {
    const slowest = Math.max(...timings);
    console.log(`${title}: ${timings.length} of ${cases.length} cases ran, slowest ${slowest.toFixed(1)} ms`);
  });
}
