// Which files a repository listing leads to: config, tokenizer files and safetensors (single,
// sharded, or the one file of another name); subfolders ignored; a repository without safetensors
// refused in one line naming what it has; malformed listings and indexes refused, not guessed at.

import { describe, expect, it } from 'vitest';
import { HubError } from './errors';
import { planDownload, readListing, shardsOf, type RepoListing } from './listing';

const SHA = 'a'.repeat(40);
const listing = (paths: string[]): RepoListing => ({ id: 'o/m', sha: SHA, gated: false, files: paths.map((path, i) => ({ path, size: 100 + i })) });
const names = (fs: { path: string }[]) => fs.map((f) => f.path);

function refusal(f: () => unknown): HubError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    return e as HubError;
  }
  throw new Error('expected a HubError');
}

describe('planDownload', () => {
  it('takes config, tokenizer files and model.safetensors; ignores the rest and subfolders', () => {
    const p = planDownload(
      listing([
        '.gitattributes',
        'README.md',
        'config.json',
        'generation_config.json',
        'model.safetensors',
        'onnx/model.safetensors',
        'tokenizer.json',
        'tokenizer_config.json',
        'special_tokens_map.json',
        'vocab.json',
      ]),
    );
    expect(names(p.small)).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']);
    expect(p.index).toBeNull();
    expect(names(p.weights)).toEqual(['model.safetensors']);
  });

  it('takes the index of a sharded model and leaves the shards to the index', () => {
    const p = planDownload(
      listing(['config.json', 'tokenizer.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']),
    );
    expect(p.index?.path).toBe('model.safetensors.index.json');
    expect(p.weights).toEqual([]);
  });

  it('takes a single safetensors file of another name', () => {
    expect(names(planDownload(listing(['config.json', 'tokenizer.json', 'weights.safetensors'])).weights)).toEqual(['weights.safetensors']);
  });

  it('refuses a repository without safetensors, naming what it has', () => {
    const e = refusal(() => planDownload(listing(['config.json', 'tokenizer.json', 'pytorch_model.bin', 'gguf/model-Q4_K_M.gguf'])));
    expect(e.kind).toBe('no-weights');
    expect(e.message).toBe(
      'o/m has no safetensors weights (it has pytorch_model.bin, gguf/model-Q4_K_M.gguf); DePass Studio reads safetensors only: choose a repository that has them',
    );
    expect(refusal(() => planDownload(listing(['README.md']))).message).toMatch(/no safetensors weights \(it has no weights at all\)/);
  });

  it('refuses a model without config.json or tokenizer.json, and several shards without an index', () => {
    expect(refusal(() => planDownload(listing(['model.safetensors', 'tokenizer.json']))).message).toMatch(/no config\.json/);
    expect(refusal(() => planDownload(listing(['config.json', 'model.safetensors']))).message).toMatch(/no tokenizer\.json/);
    expect(refusal(() => planDownload(listing(['config.json', 'tokenizer.json', 'a.safetensors', 'b.safetensors']))).message).toMatch(
      /2 \.safetensors files but no model\.safetensors\.index\.json/,
    );
  });
});

describe('readListing and shardsOf', () => {
  it('reads sizes from the listing, plain or LFS', () => {
    const l = readListing(
      {
        sha: SHA,
        gated: 'manual',
        siblings: [
          { rfilename: 'config.json', size: 12 },
          { rfilename: 'model.safetensors', lfs: { size: 99 } },
        ],
      },
      'o/m',
    );
    expect(l).toEqual({
      id: 'o/m',
      sha: SHA,
      gated: true,
      files: [
        { path: 'config.json', size: 12 },
        { path: 'model.safetensors', size: 99 },
      ],
    });
  });

  it.each([
    [{ siblings: [] }, /lacks the commit/],
    [{ sha: 'main', siblings: [] }, /lacks the commit/],
    [{ sha: SHA }, /lacks the commit or the files/],
    [{ sha: SHA, siblings: [{ rfilename: 'config.json' }] }, /gives no size for config\.json/],
  ])('refuses a malformed listing %#', (body, message) => {
    expect(refusal(() => readListing(body, 'o/m')).message).toMatch(message);
  });

  it('lists each shard once, checked against the listing', () => {
    const l = listing(['model-1.safetensors', 'model-2.safetensors']);
    const index = JSON.stringify({ weight_map: { a: 'model-1.safetensors', b: 'model-2.safetensors', c: 'model-1.safetensors' } });
    expect(names(shardsOf(index, l))).toEqual(['model-1.safetensors', 'model-2.safetensors']);
    expect(refusal(() => shardsOf(JSON.stringify({ weight_map: { a: 'model-3.safetensors' } }), l)).message).toMatch(
      /names model-3\.safetensors, which the repository lacks/,
    );
    expect(refusal(() => shardsOf(JSON.stringify({ weight_map: { a: '../x.safetensors' } }), l)).kind).toBe('damaged');
    expect(refusal(() => shardsOf('{', l)).message).toMatch(/not JSON/);
    expect(refusal(() => shardsOf('{"weight_map":{}}', l)).message).toMatch(/names no shard/);
  });
});
