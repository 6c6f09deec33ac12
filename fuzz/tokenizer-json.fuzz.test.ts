// Fuzzes tokenizer.json: model type, vocabulary and merges changed, pipeline components swapped
// for odd or unknown ones (hostile regexes, 50000-deep Sequences), added tokens broken, beside a
// valid tokenizer_config.json, through loadTokenizer and a first use of the tokenizer. Seeds: a
// hand-built byte-level tokenizer, one converted from a synthetic tokenizer.bin, and the
// stories260K and demo-model tokenizers when present.

import { describe, expect, it } from 'vitest';
import { checkTokenizer, type TokenizerUse } from './checks';
import { mutateTokenizerJson } from './formats/tokenizer-json';
import { countedFiles, failureLines, formatReport, fuzzCount, fuzzSeed, readsWithin, runFuzz, type FuzzSuite } from './harness';
import { serialiseJson } from './json';
import { modelRefusalKind, modelRefusalProblem, pickSeed, replaceFile } from './model-cases';
import { missingSeedNote, tokenizerJsonSeeds } from './seeds';
import { loadAndUseTokenizer, tokenizerMemoryBound } from './tokenizer-cases';

const seeds = tokenizerJsonSeeds();
const parsed = new Map(
  seeds.map((s) => [s, JSON.parse(new TextDecoder().decode(s.files.find((f) => f.path.endsWith('tokenizer.json'))!.bytes)) as Record<string, unknown>]),
);
const N = fuzzCount();

const suite: FuzzSuite<TokenizerUse> = {
  name: 'tokenizer.json',
  cases: N,
  seed: fuzzSeed(14),
  makeCase(rng) {
    const seed = pickSeed(rng, seeds);
    const file = seed.files.find((f) => f.path.endsWith('tokenizer.json'))!;
    const m = mutateTokenizerJson(rng, parsed.get(seed)!, parsed.get(pickSeed(rng, seeds)));
    const text = serialiseJson(rng, m.value, 0.2);
    const folder = countedFiles(replaceFile(seed.files, file.path, text.value));
    return {
      label: `${seed.name}: ${[...m.ops, ...text.ops].join('; ')}`,
      inputBytes: folder.bytes,
      names: folder.files.map((f) => f.path),
      load: () => loadAndUseTokenizer(folder),
      check: checkTokenizer,
      readProblem: () => readsWithin(folder, 1, 0),
    };
  },
  judgeError: (e, c) => modelRefusalProblem(e, c.names),
  refusalKind: modelRefusalKind,
  memoryBound: tokenizerMemoryBound,
};

describe('fuzz: tokenizer.json', () => {
  it(`${N} mutated tokenizer.json files load and encode consistently or end in a one-line ModelFormatError naming the file, each within 1 s`, async () => {
    const report = await runFuzz(suite);
    console.log(`${formatReport(report)}\n  ${missingSeedNote()}`);
    expect(failureLines(report)).toEqual([]);
    expect(report.cases).toBe(N);
    expect(report.refused).toBeGreaterThan(N * 0.1);
  });
});
