// Words from sub-tokens: the groups follow whitespace in the prompt, special tokens stand alone,
// and word scores are exact sums of token scores (completeness holds for words).

import { describe, expect, it } from 'vitest';
import type { ResultToken } from './result';
import { specialMask, wordGroups, wordScores } from './words';

/** Tokens cut from a prompt at the given boundaries, GPT-2 style (spaces lead the next token). */
function cut(prompt: string, pieces: string[], bos = false): ResultToken[] {
  const out: ResultToken[] = bos ? [{ id: 0, text: '<s>', start: 0, end: 0 }] : [];
  let at = 0;
  for (const p of pieces) {
    expect(prompt.slice(at, at + p.length)).toBe(p);
    out.push({ id: out.length, text: p, start: at, end: at + p.length });
    at += p.length;
  }
  return out;
}

describe('word groups', () => {
  it('joins sub-tokens of a word and starts words at whitespace', () => {
    const prompt = 'Unbelievable results, said Dr. Smith';
    const tokens = cut(prompt, ['Un', 'believ', 'able', ' results', ',', ' said', ' Dr', '.', ' Smith']);
    const g = wordGroups(tokens, prompt);
    expect(g.map((w) => w.text)).toEqual(['Unbelievable', 'results,', 'said', 'Dr.', 'Smith']);
    expect(g.map((w) => w.tokens)).toEqual([[0, 1, 2], [3, 4], [5], [6, 7], [8]]);
    expect(g.every((w) => prompt.slice(w.start, w.end).trim() === w.text)).toBe(true);
  });

  it('keeps BOS and other special tokens on their own', () => {
    const prompt = 'Hi there';
    const tokens = cut(prompt, ['Hi', ' there'], true);
    const g = wordGroups(tokens, prompt, [true, false, false]);
    expect(g.map((w) => [w.text, w.special])).toEqual([
      ['<s>', true],
      ['Hi', false],
      ['there', false],
    ]);
  });

  it('sums scores exactly, so words add up to the same logit as tokens', () => {
    const prompt = 'a bc de f';
    const tokens = cut(prompt, ['a', ' b', 'c', ' d', 'e', ' f']);
    const scores = [0.5, -1.25, 2, 0.125, -0.0625, 3];
    const g = wordGroups(tokens, prompt);
    const words = wordScores(scores, g);
    expect(words).toEqual([0.5, 0.75, 0.0625, 3]);
    expect(words.reduce((a, b) => a + b, 0)).toBeCloseTo(
      scores.reduce((a, b) => a + b, 0),
      12,
    );
  });

  it('gives whitespace tokens to the word after them, and multi-byte characters to their word', () => {
    const prompt = 'café\nnaïve 東京';
    const tokens = cut(prompt, ['ca', 'fé', '\n', 'na', 'ïve', ' 東', '京']);
    const g = wordGroups(tokens, prompt);
    expect(g.map((w) => w.text)).toEqual(['café', 'naïve', '東京']);
    expect(g.map((w) => w.tokens)).toEqual([
      [0, 1],
      [2, 3, 4],
      [5, 6],
    ]);
  });
});

describe('special tokens', () => {
  it('are those with an empty span, a special id, or a named position', () => {
    const tokens: ResultToken[] = [
      { id: 1, text: '<s>', start: 0, end: 0 },
      { id: 7, text: 'Hi', start: 0, end: 2 },
      { id: 9, text: '<|im_end|>', start: 2, end: 12 },
      { id: 8, text: ' you', start: 12, end: 16 },
    ];
    expect(specialMask(tokens)).toEqual([true, false, false, false]);
    expect(specialMask(tokens, [9])).toEqual([true, false, true, false]);
    expect(specialMask(tokens, [], [3])).toEqual([true, false, false, true]);
  });
});
