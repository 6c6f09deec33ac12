// Fuzzes llama2.c legacy checkpoints (.bin): header fields overwritten with boundary values or
// swapped, versioned-export magic, truncations, extensions and splices, and inverted data bytes,
// through loadCheckpoint. Seeds: tiny tied and untied models, and stories260K.bin (../shared)
// when present.

import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../src/model/checkpoint';
import { checkCheckpoint } from './checks';
import { mutateLlama2cBin } from './formats/llama2c-bin';
import { countedFiles, failureLines, formatReport, fuzzCount, fuzzSeed, readsWithin, runFuzz, type FuzzSuite } from './harness';
import { modelMemoryBound, modelRefusalKind, modelRefusalProblem, pickSeed, tryLoadCheckpoint } from './model-cases';
import { llama2cSeeds, missingSeedNote } from './seeds';

const seeds = llama2cSeeds();
const N = fuzzCount();

const suite: FuzzSuite<Checkpoint> = {
  name: 'llama2.c .bin',
  cases: N,
  seed: fuzzSeed(16),
  makeCase(rng) {
    const seed = pickSeed(rng, seeds);
    const bin = seed.files[0]!;
    const m = mutateLlama2cBin(rng, bin.bytes, pickSeed(rng, seeds).files[0]!.bytes);
    const folder = countedFiles([{ path: bin.path, bytes: m.value }]);
    return {
      label: `${seed.name}: ${m.ops.join('; ')}`,
      inputBytes: folder.bytes,
      names: [bin.path],
      async load() {
        const r = await tryLoadCheckpoint(folder.files);
        if ('error' in r) throw r.error;
        return r.checkpoint;
      },
      check(ck) {
        checkCheckpoint(ck);
        if (ck.format !== 'llama2c' || ck.description.dtype !== 'F32') throw new Error(`format ${ck.format}, dtype ${ck.description.dtype}`);
      },
      // The loader reads the file once, the fingerprint its header and sampled windows again.
      readProblem: () => readsWithin(folder, 2, 128),
    };
  },
  judgeError: (e, c) => modelRefusalProblem(e, c.names),
  refusalKind: modelRefusalKind,
  memoryBound: modelMemoryBound,
};

describe('fuzz: llama2.c .bin', () => {
  it(`${N} mutated llama2.c checkpoints load consistently or end in a one-line ModelFormatError naming the file, each within 1 s`, async () => {
    const report = await runFuzz(suite);
    console.log(`${formatReport(report)}\n  ${missingSeedNote()}`);
    expect(failureLines(report)).toEqual([]);
    expect(report.cases).toBe(N);
    expect(report.refused).toBeGreaterThan(N * 0.3);
  });
});
