// tokenizer.json files that once loaded for minutes or loaded broken (found by the tokenizer.json
// fuzz suite): the tokenizer library keeps tokens in an array indexed by id and walks it, so one
// id of 2^31 - 1 in a 2 KB file meant two billion steps; a vocabulary id of -1 came back out of
// encode(); a 1 MB added token took seconds to index; a model type the library does not know
// loaded as whatever model it guessed from the vocabulary. All are now refused up front.

import { describe, expect, it } from 'vitest';
import { ModelFormatError } from './errors';
import { tokenizerFromJson } from './tokenizer';

/** A minimal BPE tokenizer.json over a, b, c, ab with `extra` vocabulary entries and added tokens. */
function bpe(extra: Record<string, unknown> = {}, added: unknown[] = []): Record<string, unknown> {
  return {
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: { type: 'BPE', unk_token: null, vocab: { a: 0, b: 1, c: 2, ab: 3, ...extra }, merges: ['a b'] },
  };
}

function loadTimed(json: unknown, config: unknown = {}): { ms: number; error: unknown } {
  const t0 = performance.now();
  try {
    tokenizerFromJson(json, config, 'tok/tokenizer.json');
    return { ms: performance.now() - t0, error: null };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

describe('tokenizer ids far beyond the vocabulary', () => {
  it('refuses them at once, whether in the vocabulary or among added tokens', () => {
    const cases = [bpe({ x: 2 ** 31 - 1 }), bpe({}, [{ id: 2 ** 31 - 1, content: '<big>', special: true }])];
    for (const json of cases) {
      const { ms, error } = loadTimed(json);
      expect(error).toBeInstanceOf(ModelFormatError);
      expect((error as ModelFormatError).code).toBe('bad-json');
      expect((error as Error).message).toMatch(/^tok\/tokenizer\.json: token id 2147483647 is far beyond the 5 tokens the file lists$/);
      expect(ms).toBeLessThan(1000);
    }
    // tokenizer_config.json's added_tokens_decoder feeds the same table.
    const { error } = loadTimed(bpe(), { added_tokens_decoder: { '4294967296': { content: '<huge>', special: true } } });
    expect(error).toBeInstanceOf(ModelFormatError);
  });

  it('refuses vocabulary ids that are not token ids, which encode() would hand back', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    for (const [id, shown] of [
      [-1, '-1'],
      [1.5, '1.5'],
      ['3', "'3'"],
      [null, 'null'],
      [-1e308, '-1e+308'],
      [deep, 'a list'],
      [{}, 'an object'],
      [true, 'true'],
    ] as const) {
      const { error } = loadTimed(bpe({ x: id }));
      expect(error).toBeInstanceOf(ModelFormatError);
      expect((error as Error).message).toBe(`tok/tokenizer.json: vocabulary entry 'x' has id ${shown}, not a token id`);
    }
  });

  it('refuses a megabyte of added-token text in well under a second', () => {
    const { ms, error } = loadTimed(bpe({}, [{ id: 4, content: '0'.repeat(1 << 20), special: true }]));
    expect((error as Error).message).toBe('tok/tokenizer.json: added tokens hold 1048576 characters (at most 131072)');
    expect(ms).toBeLessThan(500);
  });

  it('still loads vocabularies with a few holes, and encodes with them', () => {
    const t = tokenizerFromJson(bpe({ z: 40 }, [{ id: 100, content: '<eos>', special: true }]), { eos_token: '<eos>' }, 'tok/tokenizer.json');
    expect(t.vocabSize).toBe(101);
    expect(t.eosIds).toEqual([100]);
    expect(t.encode('ab c').map((s) => s.id)).toEqual([3, 2]);
  });
});

describe('tokenizer model types', () => {
  it('refuses a model type it does not know, quoting at most 40 characters of it', () => {
    const typed = (type: unknown) => ({ ...bpe(), model: { ...(bpe().model as object), type } });
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    const cases: [unknown, string][] = [
      ['Mystery', "model type 'Mystery' is not one this tool can run (BPE, Unigram, WordPiece)"],
      ['bpe', "model type 'bpe' is not one this tool can run (BPE, Unigram, WordPiece)"],
      ['constructor', "model type 'constructor' is not one this tool can run (BPE, Unigram, WordPiece)"],
      ['X'.repeat(1 << 20), `model type '${'X'.repeat(40)}' is not one this tool can run (BPE, Unigram, WordPiece)`],
      [7, '"model" has no "type" string (expected one of BPE, Unigram, WordPiece)'],
      [deep, '"model" has no "type" string (expected one of BPE, Unigram, WordPiece)'],
      [{ toString: 'BPE' }, '"model" has no "type" string (expected one of BPE, Unigram, WordPiece)'],
    ];
    for (const [type, message] of cases) {
      const { error } = loadTimed(typed(type));
      expect(error).toBeInstanceOf(ModelFormatError);
      expect((error as Error).message).toBe(`tok/tokenizer.json: ${message}`);
    }
  });
});
