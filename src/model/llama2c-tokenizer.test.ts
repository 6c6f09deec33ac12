// Tests for the llama2.c tokenizer.bin reader and its conversion to tokenizer.json: a tiny file
// written here whose merges and encodings are derived by hand, every malformed-file case, and
// the real tok512.bin against the independently converted tokenizer.json in ../shared.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHARED as SHARED_ROOT, skipWithoutFiles } from '../testing/requirements';
import { ModelFormatError } from './errors';
import { llama2cToHuggingFace, parseLlama2cTokenizer } from './llama2c-tokenizer';
import { tokenizerFromJson } from './tokenizer';

/** tokenizer.bin bytes: uint32 max_token_length, then per piece f32 score, int32 length, bytes. */
function tokenizerBin(pieces: [string, number][], maxTokenLength?: number): Uint8Array {
  const enc = new TextEncoder();
  const raw = pieces.map(([p, s]) => [enc.encode(p), s] as const);
  const size = 4 + raw.reduce((n, [b]) => n + 8 + b.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, maxTokenLength ?? Math.max(...raw.map(([b]) => b.length)), true);
  let off = 4;
  for (const [b, s] of raw) {
    view.setFloat32(off, s, true);
    view.setInt32(off + 4, b.length, true);
    out.set(b, off + 8);
    off += 8 + b.length;
  }
  return out;
}

const hex = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

/** The llama2.c layout with a handful of normal pieces; scores are minus their merge rank. */
function tinyPieces(): [string, number][] {
  return [
    ['<unk>', 0],
    ['\n<s>\n', 0],
    ['\n</s>\n', 0],
    ...Array.from({ length: 256 }, (_, b) => [hex(b), 0] as [string, number]),
    [' t', 0], // 259
    ['he', -1], // 260
    [' th', -2], // 261
    [' the', -3], // 262
    ['e', -4], // 263
    ['h', -5], // 264
    ['t', -6], // 265
    [' ', -7], // 266
  ];
}

const FILE = 'llama/tokenizer.bin';

function expectFormatError(f: () => unknown, code: string): ModelFormatError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ModelFormatError);
  const err = caught as ModelFormatError;
  expect(err.code).toBe(code);
  expect(err.message).toContain(FILE);
  expect(err.message).not.toContain('\n');
  return err;
}

describe('parseLlama2cTokenizer', () => {
  it('reads pieces and scores as written', () => {
    const v = parseLlama2cTokenizer(tokenizerBin(tinyPieces()), FILE);
    expect(v.maxTokenLength).toBe(6); // "\n</s>\n"
    expect(v.pieces.length).toBe(267);
    expect(v.pieces[1]).toBe('\n<s>\n');
    expect(v.pieces[3 + 0x41]).toBe('<0x41>');
    expect(v.pieces[262]).toBe(' the');
    expect(v.scores[262]).toBe(-3);
  });

  it('refuses a file shorter than its header', () => {
    expectFormatError(() => parseLlama2cTokenizer(Uint8Array.of(7, 0), FILE), 'truncated');
  });

  it('refuses an implausible max_token_length', () => {
    expectFormatError(() => parseLlama2cTokenizer(tokenizerBin(tinyPieces(), 0), FILE), 'bad-header');
    expectFormatError(() => parseLlama2cTokenizer(tokenizerBin(tinyPieces(), 1 << 30), FILE), 'bad-header');
  });

  it('refuses a file cut inside a score/length pair', () => {
    const bin = tokenizerBin(tinyPieces());
    expectFormatError(() => parseLlama2cTokenizer(bin.subarray(0, 4 + 8 + 5 + 3), FILE), 'truncated');
  });

  it('refuses a file cut inside a piece', () => {
    const bin = tokenizerBin(tinyPieces());
    const err = expectFormatError(() => parseLlama2cTokenizer(bin.subarray(0, bin.length - 1), FILE), 'truncated');
    expect(err.message).toContain('token 266');
  });

  it('refuses an absurd length before using it', () => {
    const bin = tokenizerBin(tinyPieces());
    new DataView(bin.buffer).setInt32(4 + 4, 0x7fffffff, true); // token 0's length
    const err = expectFormatError(() => parseLlama2cTokenizer(bin, FILE), 'truncated');
    expect(err.message).toContain('2147483647');
    new DataView(bin.buffer).setInt32(4 + 4, -5, true);
    expectFormatError(() => parseLlama2cTokenizer(bin, FILE), 'bad-header');
  });

  it('refuses a piece longer than max_token_length', () => {
    expectFormatError(() => parseLlama2cTokenizer(tokenizerBin(tinyPieces(), 5), FILE), 'bad-header');
  });

  it('refuses invalid UTF-8 and non-finite scores', () => {
    const bin = tokenizerBin(tinyPieces());
    const bad = bin.slice();
    bad[4 + 8] = 0xff; // first byte of "<unk>"
    expectFormatError(() => parseLlama2cTokenizer(bad, FILE), 'bad-header');
    const nan = bin.slice();
    new DataView(nan.buffer).setFloat32(4, NaN, true);
    expectFormatError(() => parseLlama2cTokenizer(nan, FILE), 'bad-header');
  });

  it('refuses a file without the three special tokens', () => {
    expectFormatError(() => parseLlama2cTokenizer(tokenizerBin([['<unk>', 0]]), FILE), 'bad-header');
  });
});

describe('llama2cToHuggingFace', () => {
  it('builds the merges by hand-derivable rules', () => {
    const { tokenizerJson } = llama2cToHuggingFace(parseLlama2cTokenizer(tokenizerBin(tinyPieces()), FILE), FILE);
    const model = tokenizerJson.model as { vocab: Record<string, number>; merges: string[] };
    // Splits into two normal pieces, by the merged piece's score; " the" has two splits, ordered
    // by the left piece's id (" t" 259 before " th" 261).
    expect(model.merges).toEqual(['▁ t', 'h e', '▁t h', '▁t he', '▁th e']);
    expect(model.vocab['<s>']).toBe(1);
    expect(model.vocab['</s>']).toBe(2);
    expect(model.vocab['<0x0A>']).toBe(3 + 10);
    expect(model.vocab['▁the']).toBe(262);
    expect(model.vocab['▁']).toBe(266);
  });

  it('encodes as llama2.c would', () => {
    const { tokenizerJson, tokenizerConfig } = llama2cToHuggingFace(parseLlama2cTokenizer(tokenizerBin(tinyPieces()), FILE), FILE);
    const tok = tokenizerFromJson(tokenizerJson, tokenizerConfig, FILE);
    // "the" -> "▁the": ▁+t (rank 0), h+e (1), ▁t+he (3).
    expect(tok.encode('the').map((t) => t.id)).toEqual([1, 262]);
    // "tea": ▁t, e, then 'a' is not a piece: byte fallback to <0x61> = 0x61 + 3.
    expect(tok.encode('tea').map((t) => t.id)).toEqual([1, 259, 263, 0x61 + 3]);
    expect(tok.decode([1, 259, 263, 0x61 + 3])).toBe('tea');
  });

  it('refuses two ids with the same piece', () => {
    const pieces = tinyPieces();
    pieces[265] = ['he', -6];
    expectFormatError(() => llama2cToHuggingFace(parseLlama2cTokenizer(tokenizerBin(pieces), FILE), FILE), 'bad-header');
  });
});

const SHARED = SHARED_ROOT + 'models/stories260K/';

describe.skipIf(skipWithoutFiles(SHARED + 'llama2c/tok512.bin', SHARED + 'tokenizer.json'))('stories260K tok512.bin (../shared)', () => {
  it('converts to exactly the tokenizer.json shipped beside it', () => {
    const bin = new Uint8Array(readFileSync(SHARED + 'llama2c/tok512.bin'));
    const { tokenizerJson } = llama2cToHuggingFace(parseLlama2cTokenizer(bin, 'tok512.bin'), 'tok512.bin');
    const shipped = JSON.parse(readFileSync(SHARED + 'tokenizer.json', 'utf8')) as Record<string, unknown>;
    // Merges are compared in order (their rank is their meaning); the rest structurally.
    expect((tokenizerJson.model as { merges: string[] }).merges).toEqual((shipped.model as { merges: string[] }).merges);
    expect(tokenizerJson).toEqual(shipped);
  });
});
