// loadTokenizer on malformed or missing input: a broken tokenizer.json, tokenizer_config.json or
// tokenizer.bin, or none at all, is refused with a one-line ModelFormatError of the right code
// naming the file; an oversized tokenizer.bin is refused unread. Encoding is tokenizer.test.ts's.

import { describe, expect, it } from 'vitest';
import { ModelFormatError } from './errors';
import type { ModelFile } from './files';
import { byteLevelJson } from './testing/byte-level-tokenizer';
import { loadTokenizer } from './tokenizer';

const file = (path: string, data: string | Uint8Array): ModelFile => ({
  path,
  blob: new Blob([typeof data === 'string' ? data : new Uint8Array(data)]),
});

async function expectLoadError(files: ModelFile[], code: string, named: string): Promise<ModelFormatError> {
  const err = await loadTokenizer(files).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelFormatError);
  const e = err as ModelFormatError;
  expect(e.code).toBe(code);
  expect(e.message).toContain(named);
  expect(e.message).not.toContain('\n');
  return e;
}

describe('loadTokenizer errors', () => {
  it('names a tokenizer.json that is not JSON', async () => {
    await expectLoadError([file('m/tokenizer.json', '{"model": ')], 'bad-json', 'm/tokenizer.json');
  });

  it('names a tokenizer.json without a model', async () => {
    await expectLoadError([file('m/tokenizer.json', '[1, 2]')], 'bad-json', 'm/tokenizer.json');
    await expectLoadError([file('m/tokenizer.json', '{"version": "1.0"}')], 'bad-json', 'm/tokenizer.json');
  });

  it('names a tokenizer.json the library refuses', async () => {
    const bogus = { ...byteLevelJson(), normalizer: { type: 'NoSuchNormalizer' } };
    await expectLoadError([file('m/tokenizer.json', JSON.stringify(bogus))], 'unsupported', 'm/tokenizer.json');
    const badModel = { ...byteLevelJson(), model: { type: 'NoSuchModel' } };
    await expectLoadError([file('m/tokenizer.json', JSON.stringify(badModel))], 'unsupported', 'm/tokenizer.json');
  });

  it('refuses a model type it does not know instead of guessing one from the vocabulary', async () => {
    // The vocabulary and merges are a working BPE: only the type is unknown.
    const mystery = { ...byteLevelJson(), model: { ...(byteLevelJson().model as object), type: 'Mystery' } };
    const e = await expectLoadError([file('m/tokenizer.json', JSON.stringify(mystery))], 'unsupported', 'm/tokenizer.json');
    expect(e.message).toBe("m/tokenizer.json: model type 'Mystery' is not one this tool can run (BPE, Unigram, WordPiece)");
    const untyped = { ...byteLevelJson(), model: { ...(byteLevelJson().model as object), type: undefined } };
    const u = await expectLoadError([file('m/tokenizer.json', JSON.stringify(untyped))], 'bad-json', 'm/tokenizer.json');
    expect(u.message).toBe('m/tokenizer.json: "model" has no "type" string (expected one of BPE, Unigram, WordPiece)');
  });

  it('names a template whose special token is not in the vocabulary', async () => {
    const bad = {
      ...byteLevelJson(),
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<nope>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [],
        special_tokens: {},
      },
    };
    await expectLoadError([file('m/tokenizer.json', JSON.stringify(bad))], 'unsupported', 'm/tokenizer.json');
  });

  it('names malformed added tokens', async () => {
    const bad = { ...byteLevelJson(), added_tokens: [{ id: 'x', content: 5 }] };
    await expectLoadError([file('m/tokenizer.json', JSON.stringify(bad))], 'bad-json', 'm/tokenizer.json');
  });

  it('names a tokenizer_config.json that is not JSON', async () => {
    await expectLoadError(
      [file('m/tokenizer.json', JSON.stringify(byteLevelJson())), file('m/tokenizer_config.json', '{oops')],
      'bad-json',
      'm/tokenizer_config.json',
    );
  });

  it('names a truncated tokenizer.bin and one with an absurd length', async () => {
    const bin = new Uint8Array(4 + 8 + 5);
    const view = new DataView(bin.buffer);
    view.setUint32(0, 7, true);
    view.setInt32(8, 5, true);
    bin.set(new TextEncoder().encode('<unk>'), 12);
    await expectLoadError([file('l/tokenizer.bin', bin.subarray(0, 10))], 'truncated', 'l/tokenizer.bin');
    view.setInt32(8, 1_000_000_000, true);
    const e = await expectLoadError([file('l/tok512.bin', bin)], 'truncated', 'l/tok512.bin');
    expect(e.message).toContain('1000000000');
  });

  it('refuses an oversized tok*.bin without reading it', async () => {
    let reads = 0;
    const huge = {
      size: 2 ** 33,
      type: '',
      slice: () => huge,
      arrayBuffer: () => (reads++, Promise.reject(new Error('read'))),
      text: () => (reads++, Promise.reject(new Error('read'))),
    } as unknown as Blob;
    await expectLoadError([{ path: 'l/tokenizer.bin', blob: huge }], 'bad-header', 'l/tokenizer.bin');
    expect(reads).toBe(0);
  });

  it('says which file is missing when no tokenizer is given', async () => {
    await expectLoadError(
      [file('m/config.json', '{}'), file('m/model.safetensors', new Uint8Array(8)), file('m/stories.bin', new Uint8Array(8))],
      'missing',
      'tokenizer.json',
    );
    await expectLoadError([], 'missing', 'tokenizer.json');
  });
});
