// Sources as the views list them, on the hand-made result ("<s>", "a", " b", " c"; scores worked
// out on paper): words sum their tokens exactly, hiding special tokens leaves every score as it is
// and gathers theirs into one total, and rankings leave hidden sources out.

import { describe, expect, it } from 'vitest';
import type { ResultToken } from '../depass/result';
import { specialMask } from '../depass/words';
import { handResult } from '../state/testing';
import { hiddenTotal, rankSources, sourceAt, sourceSet, spanLabel, sumAt } from './sources';

/** "<s>Unbelievable results": BOS, then a word of three tokens and one of one. */
const tokens: ResultToken[] = [
  { id: 1, text: '<s>', start: 0, end: 0 },
  { id: 2, text: 'Un', start: 0, end: 2 },
  { id: 3, text: 'believ', start: 2, end: 8 },
  { id: 4, text: 'able', start: 8, end: 12 },
  { id: 5, text: ' results', start: 12, end: 20 },
];
const prompt = 'Unbelievable results';
// Scores of the prediction at position 4: the word "Unbelievable" holds 0.5 + 0.25 - 1.
const row = [2, 0.5, 0.25, -1, 0.125];

describe('sources', () => {
  it('are the tokens when words are off, each with its own score', () => {
    const set = sourceSet(tokens, prompt, specialMask(tokens), { words: false, hideSpecial: false });
    expect(set.shown.map((u) => [u.text, u.positions, u.special])).toEqual([
      ['<s>', [0], true],
      ['Un', [1], false],
      ['believ', [2], false],
      ['able', [3], false],
      [' results', [4], false],
    ]);
    expect(set.shown.map((u) => sumAt(row, u.positions))).toEqual(row);
    expect(set.hidden).toEqual([]);
  });

  it('are words when asked, each the exact sum of its tokens, and they add up to the tokens', () => {
    const set = sourceSet(tokens, prompt, specialMask(tokens), { words: true, hideSpecial: false });
    expect(set.shown.map((u) => [u.text, u.positions])).toEqual([
      ['<s>', [0]],
      ['Unbelievable', [1, 2, 3]],
      ['results', [4]],
    ]);
    const sums = set.shown.map((u) => sumAt(row, u.positions));
    expect(sums).toEqual([2, -0.25, 0.125]);
    expect(sums.reduce((a, b) => a + b, 0)).toBe(row.reduce((a, b) => a + b, 0));
    expect(spanLabel(set.shown[1].positions)).toBe('1–3');
    expect(sourceAt(set, 2)?.text).toBe('Unbelievable');
  });

  it('hidden special tokens leave the list and the ranking, and come back as one total', () => {
    const shown = sourceSet(tokens, prompt, specialMask(tokens), { words: true, hideSpecial: false });
    const hidden = sourceSet(tokens, prompt, specialMask(tokens), { words: true, hideSpecial: true });
    expect(hidden.shown.map((u) => u.text)).toEqual(['Unbelievable', 'results']);
    expect(hidden.hidden).toEqual([0]);
    expect(hiddenTotal(hidden, row, 4)).toEqual({ positions: [0], score: 2 });
    expect(hiddenTotal(shown, row, 4)).toBeNull();
    // Same scores for the sources both show; the ranking only loses the hidden one.
    expect(rankSources(shown, row, 4).map((x) => [x.source.text, x.score])).toEqual([
      ['<s>', 2],
      ['Unbelievable', -0.25],
      ['results', 0.125],
    ]);
    expect(rankSources(hidden, row, 4).map((x) => [x.source.text, x.score])).toEqual([
      ['Unbelievable', -0.25],
      ['results', 0.125],
    ]);
    expect(sourceAt(hidden, 0)).toBeNull();
  });

  it('rank only the sources up to the position', () => {
    const r = handResult();
    const set = sourceSet(r.tokens, r.prompt, specialMask(r.tokens), { words: false, hideSpecial: true });
    expect(rankSources(set, r.token!.scores[2], 2).map((x) => x.source.first)).toEqual([2, 1]);
    expect(hiddenTotal(set, r.token!.scores[2], 2)).toEqual({ positions: [0], score: 0.5 });
  });

  it('label positions that are not adjacent one by one', () => {
    expect(spanLabel([0, 4])).toBe('0,4');
    expect(spanLabel([7])).toBe('7');
  });
});
