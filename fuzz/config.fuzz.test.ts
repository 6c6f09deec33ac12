// Fuzzes config.json: sizes nudged or broken, families and options swapped or retyped, raw
// NaN/Infinity and deep nesting in the text, beside the valid weights of the same seed, through
// loadCheckpoint (description, then every tensor against it). Seeds as in the safetensors suite.

import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../src/model/checkpoint';
import { checkCheckpoint } from './checks';
import { mutateConfig } from './formats/config';
import { countedFiles, failureLines, formatReport, fuzzCount, fuzzSeed, readsWithin, runFuzz, type FuzzSuite } from './harness';
import { serialiseJson } from './json';
import { modelMemoryBound, modelRefusalKind, modelRefusalProblem, pickSeed, replaceFile, tryLoadCheckpoint } from './model-cases';
import { missingSeedNote, singleFileSeeds } from './seeds';

const seeds = await singleFileSeeds();
const configs = new Map(
  seeds.map((s) => [s, JSON.parse(new TextDecoder().decode(s.files.find((f) => f.path.endsWith('config.json'))!.bytes)) as Record<string, unknown>]),
);
const N = fuzzCount();

const suite: FuzzSuite<Checkpoint> = {
  name: 'config.json',
  cases: N,
  seed: fuzzSeed(12),
  makeCase(rng) {
    const seed = pickSeed(rng, seeds);
    const config = seed.files.find((f) => f.path.endsWith('config.json'))!;
    const m = mutateConfig(rng, configs.get(seed)!, configs.get(pickSeed(rng, seeds)));
    const text = serialiseJson(rng, m.value, 0.25);
    const folder = countedFiles(replaceFile(seed.files, config.path, text.value));
    return {
      label: `${seed.name}: ${[...m.ops, ...text.ops].join('; ')}`,
      inputBytes: folder.bytes,
      names: folder.files.map((f) => f.path),
      async load() {
        const r = await tryLoadCheckpoint(folder.files);
        if ('error' in r) throw r.error;
        return r.checkpoint;
      },
      check: checkCheckpoint,
      readProblem: () => readsWithin(folder, 3, 64),
    };
  },
  judgeError: (e, c) => modelRefusalProblem(e, c.names),
  refusalKind: modelRefusalKind,
  memoryBound: modelMemoryBound,
};

describe('fuzz: config.json', () => {
  it(`${N} mutated configs load consistently or end in a one-line ModelFormatError naming the file, each within 1 s`, async () => {
    const report = await runFuzz(suite);
    console.log(`${formatReport(report)}\n  ${missingSeedNote()}`);
    expect(failureLines(report)).toEqual([]);
    expect(report.cases).toBe(N);
    expect(report.refused).toBeGreaterThan(N * 0.3);
  });
});
