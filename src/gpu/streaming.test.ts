// Weights reach the GPU from the user's files a piece at a time: a checkpoint opened without
// reading its weights uploads with no read larger than the piece size, reports its progress up
// to the total, and gives the same predictions as the same checkpoint read into memory.

import { describe, expect, it } from 'vitest';
import { loadCheckpoint, openCheckpoint } from '../model/checkpoint';
import { type ReadCounter, countingFiles } from '../model/testing/counting-blob';
import { randomModel, type RandomModelOptions } from '../model/testing/random-model';
import { toHfFiles } from '../model/testing/serialize';
import { GpuBackend } from './engine';
import { nodeShaderLoader } from './node';
import { describeAdapter, skipWithoutGpu, testGpu } from './testing/gpu-env';
import { storedBytes } from './weights';

const gpu = await testGpu();
const PIECE = 1024; // bytes per queue write in this test (the app uses 16 MiB)

describe.skipIf(skipWithoutGpu(gpu))(`weights streamed to the GPU (${gpu ? describeAdapter(gpu) : 'no GPU'})`, () => {
  for (const opts of [
    { family: 'llama', dtype: 'BF16', seed: 51, vocab_size: 120, hidden_size: 48 },
    { family: 'qwen2', dtype: 'F32', seed: 52, vocab_size: 100, tie_word_embeddings: false },
  ] as RandomModelOptions[]) {
    it(`${opts.family} ${opts.dtype}: reads at most a piece at a time, reports progress, predicts as in memory`, async () => {
      const m = randomModel(opts);
      const files = toHfFiles(m.description, m.weights, { folder: 'm' });
      const counter: ReadCounter = { bytes: 0, reads: 0 };
      const stored = await openCheckpoint(countingFiles(files, counter));
      expect(counter.largest ?? 0, 'opening reads headers and fingerprint samples only').toBeLessThan(PIECE * 8);
      counter.largest = 0;
      const progress: number[] = [];
      const total = storedBytes(stored.weights);
      const streamed = await GpuBackend.create(gpu!.ctx, stored.description, stored.weights, nodeShaderLoader(), {
        pieceBytes: PIECE,
        onProgress: (done, of) => {
          expect(of).toBe(total);
          progress.push(done);
        },
      });
      const inMemory = await loadCheckpoint(files);
      const plain = await GpuBackend.create(gpu!.ctx, inMemory.description, inMemory.weights, nodeShaderLoader());
      try {
        // The embedding alone is larger than a piece: it took several reads, none larger than a piece.
        expect(m.description.vocab_size * m.description.hidden_size * 2).toBeGreaterThan(4 * PIECE - 1);
        expect(counter.largest).toBeLessThanOrEqual(PIECE);
        expect(progress.length).toBeGreaterThan(10);
        expect(progress.every((p, i) => i === 0 || p >= progress[i - 1]!)).toBe(true);
        expect(progress[progress.length - 1]).toBeLessThanOrEqual(total);
        const ids = [1, 7, 3, 22, 9];
        const a = await streamed.forward(ids);
        const b = await plain.forward(ids);
        expect(a.top).toEqual(b.top);
        const targets = [{ position: 4, id: 5, contrast_id: 2 }];
        expect(await a.targetLogits(targets)).toEqual(await b.targetLogits(targets));
      } finally {
        streamed.destroy();
        plain.destroy();
      }
    });
  }
});
