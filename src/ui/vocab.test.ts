// Vocabulary search: ids, exact text, prefixes, substrings, in that order.

import { describe, expect, it } from 'vitest';
import { searchVocab } from './vocab';

const V = ['<unk>', '<s>', 'the', ' the', ' them', 'other', ' The', '12', ' cat'];

describe('searchVocab', () => {
  it('finds by id with or without #', () => {
    expect(searchVocab(V, '#8')[0]).toEqual({ id: 8, text: ' cat' });
    expect(searchVocab(V, '7')[0]).toEqual({ id: 7, text: '12' });
  });

  it('ranks exact (space-led first), then prefix, then substring', () => {
    expect(searchVocab(V, 'the').map((m) => m.id)).toEqual([3, 6, 2, 4, 5]);
  });

  it('respects the limit and returns nothing for an empty query', () => {
    expect(searchVocab(V, 'the', 2)).toHaveLength(2);
    expect(searchVocab(V, '   ')).toEqual([]);
    expect(searchVocab(V, 'zebra')).toEqual([]);
  });
});
