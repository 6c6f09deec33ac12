// Fuzzes llama2.c tokenizer.bin files: max_token_length and per-token lengths and scores
// overwritten (NaN, infinities, boundary integers), pieces made invalid UTF-8 or duplicated,
// token lists cut short or grown with long pieces, through loadTokenizer (parse, conversion to
// BPE merges, the tokenizer library) and a first use of the tokenizer. Seeds: a synthetic file
// and stories260K's tok512.bin (../shared) when present.

import { describe, expect, it } from 'vitest';
import { checkTokenizer, type TokenizerUse } from './checks';
import { mutateTokenizerBin } from './formats/tokenizer-bin';
import { countedFiles, failureLines, formatReport, fuzzCount, fuzzSeed, readsWithin, runFuzz, type FuzzSuite } from './harness';
import { modelRefusalKind, modelRefusalProblem, pickSeed } from './model-cases';
import { missingSeedNote, tokenizerBinSeeds } from './seeds';
import { loadAndUseTokenizer, tokenizerMemoryBound } from './tokenizer-cases';

const seeds = tokenizerBinSeeds();
const N = fuzzCount();

const suite: FuzzSuite<TokenizerUse> = {
  name: 'tokenizer.bin',
  cases: N,
  seed: fuzzSeed(17),
  makeCase(rng) {
    const seed = pickSeed(rng, seeds);
    const bin = seed.files[0]!;
    const m = mutateTokenizerBin(rng, bin.bytes, pickSeed(rng, seeds).files[0]!.bytes);
    const folder = countedFiles([{ path: bin.path, bytes: m.value }]);
    return {
      label: `${seed.name}: ${m.ops.join('; ')}`,
      inputBytes: folder.bytes,
      names: [bin.path],
      load: () => loadAndUseTokenizer(folder),
      check: checkTokenizer,
      readProblem: () => readsWithin(folder, 1, 0),
    };
  },
  judgeError: (e, c) => modelRefusalProblem(e, c.names),
  refusalKind: modelRefusalKind,
  memoryBound: tokenizerMemoryBound,
};

describe('fuzz: tokenizer.bin', () => {
  it(`${N} mutated tokenizer.bin files load and encode consistently or end in a one-line ModelFormatError naming the file, each within 1 s`, async () => {
    const report = await runFuzz(suite);
    console.log(`${formatReport(report)}\n  ${missingSeedNote()}`);
    expect(failureLines(report)).toEqual([]);
    expect(report.cases).toBe(N);
    expect(report.refused).toBeGreaterThan(N * 0.3);
  });
});
