// Fuzzes tokenizer_config.json (and sometimes a special_tokens_map.json beside it): token fields
// retyped or naming unknown tokens, BOS/EOS flags of the wrong type, odd added_tokens_decoder
// keys, beside a valid tokenizer.json, through loadTokenizer and a first use of the tokenizer.
// Seeds as in the tokenizer.json suite.

import { describe, expect, it } from 'vitest';
import { checkTokenizer, type TokenizerUse } from './checks';
import { mutateTokenizerConfig } from './formats/tokenizer-config';
import { countedFiles, failureLines, formatReport, fuzzCount, fuzzSeed, readsWithin, runFuzz, type FuzzSuite } from './harness';
import { serialiseJson } from './json';
import { modelRefusalKind, modelRefusalProblem, pickSeed, replaceFile } from './model-cases';
import { missingSeedNote, tokenizerJsonSeeds } from './seeds';
import { loadAndUseTokenizer, tokenizerMemoryBound } from './tokenizer-cases';

const seeds = tokenizerJsonSeeds();
const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
const configs = new Map(seeds.map((s) => [s, decode(s.files.find((f) => f.path.endsWith('tokenizer_config.json'))!.bytes)]));
const pieces = new Map(
  seeds.map((s) => {
    const model = decode(s.files.find((f) => f.path.endsWith('tokenizer.json'))!.bytes)['model'] as { vocab: Record<string, number> };
    return [s, Object.keys(model.vocab).slice(0, 300)];
  }),
);
const N = fuzzCount();

const suite: FuzzSuite<TokenizerUse> = {
  name: 'tokenizer_config.json',
  cases: N,
  seed: fuzzSeed(15),
  makeCase(rng) {
    const seed = pickSeed(rng, seeds);
    const file = seed.files.find((f) => f.path.endsWith('tokenizer_config.json'))!;
    const m = mutateTokenizerConfig(rng, configs.get(seed)!, pieces.get(seed)!);
    const text = serialiseJson(rng, m.value, 0.2);
    const files = replaceFile(seed.files, file.path, text.value);
    const ops = [...m.ops, ...text.ops];
    if (rng.chance(0.15)) {
      const map = mutateTokenizerConfig(rng, { bos_token: '<s>', eos_token: '</s>' }, pieces.get(seed)!);
      files.push({ path: file.path.replace('tokenizer_config.json', 'special_tokens_map.json'), bytes: serialiseJson(rng, map.value, 0.2).value });
      ops.push(`special_tokens_map.json: ${map.ops.join(', ')}`);
    }
    const folder = countedFiles(files);
    return {
      label: `${seed.name}: ${ops.join('; ')}`,
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

describe('fuzz: tokenizer_config.json', () => {
  it(`${N} mutated tokenizer configs load and encode consistently or end in a one-line ModelFormatError naming the file, each within 1 s`, async () => {
    const report = await runFuzz(suite);
    console.log(`${formatReport(report)}\n  ${missingSeedNote()}`);
    expect(failureLines(report)).toEqual([]);
    expect(report.cases).toBe(N);
    expect(report.refused).toBeGreaterThan(0);
  });
});
