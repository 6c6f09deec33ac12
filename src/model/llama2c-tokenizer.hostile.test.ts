// tokenizer.bin files whose conversion to merges once took seconds to minutes (every split of
// every piece hashed, so 500 pieces of 1000 bytes took 12 s; found by the tokenizer.bin fuzz
// suite). The faster search is checked against the plain all-splits search it replaced.

import { describe, expect, it } from 'vitest';
import { ModelFormatError } from './errors';
import { LLAMA2C_SPECIALS, llama2cToHuggingFace, parseLlama2cTokenizer, type Llama2cVocab } from './llama2c-tokenizer';
import { seededRandom } from './testing/random-model';

const hex = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

/** A vocabulary in llama2.c's layout: specials, 256 byte pieces, then `normal` scored by rank. */
function vocabOf(normal: string[]): Llama2cVocab {
  const pieces = ['<unk>', '\n<s>\n', '\n</s>\n', ...Array.from({ length: 256 }, (_, b) => hex(b)), ...normal];
  const scores = pieces.map((_, id) => (id < 259 ? 0 : -(id - 259)));
  return { maxTokenLength: 1024, pieces, scores };
}

/** The merges by trying every split of every normal piece (the search before the fix). */
function allSplitMerges(v: Llama2cVocab): string[] {
  const names = v.pieces.map((p, id) => (id < 3 ? LLAMA2C_SPECIALS[id]! : p.split(' ').join('\u2581')));
  const idOf = new Map(names.map((n, id) => [n, id]));
  const normal = (id: number) => id >= 3 && !/^<0x[0-9A-F]{2}>$/.test(names[id]!);
  const found: { left: number; right: number; merged: number }[] = [];
  names.forEach((name, merged) => {
    if (!normal(merged)) return;
    const chars = Array.from(name);
    for (let k = 1; k < chars.length; k++) {
      const left = idOf.get(chars.slice(0, k).join(''));
      const right = idOf.get(chars.slice(k).join(''));
      if (left !== undefined && right !== undefined && normal(left) && normal(right)) found.push({ left, right, merged });
    }
  });
  found.sort((a, b) => v.scores[b.merged]! - v.scores[a.merged]! || a.merged - b.merged || a.left - b.left || a.right - b.right);
  return found.map((m) => `${names[m.left]} ${names[m.right]}`);
}

const mergesOf = (v: Llama2cVocab) => (llama2cToHuggingFace(v, 'tok.bin').tokenizerJson['model'] as { merges: string[] }).merges;

function randomPieces(n: number, lengths: () => number, seed: number, alphabet = ['a', 'b', 'c', ' ', '\u00e9', '\ud83d\ude00']): string[] {
  const rnd = seededRandom(seed);
  const seen = new Set<string>();
  while (seen.size < n) {
    let s = '';
    for (let k = lengths(); k > 0; k--) s += alphabet[Math.floor(rnd() * alphabet.length)]!;
    seen.add(s);
  }
  return [...seen];
}

describe('llama2.c tokenizer conversion on hostile files', () => {
  it('finds the same merges as trying every split', () => {
    const rnd = seededRandom(3);
    // Every string of up to 3 symbols, then longer random ones: many pieces split many ways.
    const alphabet = ['a', 'b', ' ', '\ud83d\ude00'];
    const short = [''];
    for (let len = 1; len <= 3; len++) for (const s of short.filter((x) => Array.from(x).length === len - 1)) for (const c of alphabet) short.push(s + c);
    const vocab = vocabOf([...short.slice(1), ...randomPieces(200, () => 4 + Math.floor(rnd() * 20), 4, alphabet)]);
    const merges = mergesOf(vocab);
    expect(merges.length).toBeGreaterThan(150);
    expect(merges).toEqual(allSplitMerges(vocab));
  });

  it('converts 500 random pieces of 1000 characters in well under a second', () => {
    const vocab = vocabOf([...'abc'.split(''), ...randomPieces(500, () => 1000, 5)]);
    const t0 = performance.now();
    const merges = mergesOf(vocab);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(merges).toEqual(allSplitMerges(vocabOf([...'abc'.split('')])));
  });

  it('refuses, quickly and by name, pieces of every length up to 1024 and the quadratic a, aa, aaa, ...', () => {
    const rnd = seededRandom(6);
    const everyLength = randomPieces(1024, () => 1 + Math.floor(rnd() * 1024), 7);
    const powers = Array.from({ length: 700 }, (_, k) => 'a'.repeat(k + 1));
    for (const normal of [everyLength, powers]) {
      const t0 = performance.now();
      expect(() => llama2cToHuggingFace(vocabOf(normal), 'models/tok.bin')).toThrow(ModelFormatError);
      expect(() => llama2cToHuggingFace(vocabOf(normal), 'models/tok.bin')).toThrow(/^models\/tok\.bin: has too many long pieces to turn into merges/);
      expect(performance.now() - t0).toBeLessThan(1000);
    }
  });

  it('still reads a real-shaped file of many short pieces', () => {
    const bytes = new TextEncoder();
    const rnd = seededRandom(8);
    const normal = randomPieces(4000, () => 3 + Math.floor(rnd() * 10), 9, 'abcdefghijklmnop '.split(''));
    const v = vocabOf(normal);
    // Through the byte parser too, so the file layout is exercised end to end.
    const size = 4 + v.pieces.reduce((s, p) => s + 8 + bytes.encode(p).length, 0);
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    view.setUint32(0, 16, true);
    let off = 4;
    v.pieces.forEach((p, id) => {
      const b = bytes.encode(p);
      view.setFloat32(off, v.scores[id]!, true);
      view.setInt32(off + 4, b.length, true);
      out.set(b, off + 8);
      off += 8 + b.length;
    });
    const parsed = parseLlama2cTokenizer(out, 'tok.bin');
    expect(mergesOf(parsed)).toEqual(allSplitMerges(parsed));
  });
});
