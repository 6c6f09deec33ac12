// Words instead of sub-tokens: a prompt's tokens grouped into words by their character spans
// (a word starts where whitespace does; special tokens such as BOS stand alone), and any per-token
// scores summed per word. Sums of sums are exact, so completeness holds for words as for tokens.

import type { ResultToken } from './result';

export interface WordGroup {
  /** The word's text in the prompt (a special token's own text). */
  text: string;
  /** UTF-16 span of the word in the prompt. */
  start: number;
  end: number;
  /** Token positions of the word, in order. */
  tokens: number[];
  special: boolean;
}

const SPACE = /\s/;

/**
 * Tokens grouped into words: a token starts a new word when it is special, follows a special
 * token, begins with whitespace (GPT-2's " the", SentencePiece's "▁the" decode to that), or
 * follows whitespace in the prompt. `special[t]` marks special tokens (BOS, chat markers).
 */
export function wordGroups(tokens: readonly ResultToken[], prompt: string, special: readonly boolean[] = []): WordGroup[] {
  const groups: WordGroup[] = [];
  tokens.forEach((tok, t) => {
    const prev = groups[groups.length - 1];
    const isSpecial = special[t] === true || tok.start === tok.end;
    const own = prompt.slice(tok.start, tok.end);
    const gap = prev ? prompt.slice(prev.end, tok.start) : '';
    const starts = !prev || isSpecial || prev.special || SPACE.test(own.charAt(0)) || SPACE.test(gap) || tok.start < prev.end;
    if (starts) {
      groups.push({ text: isSpecial ? tok.text : own.trimStart(), start: tok.start, end: tok.end, tokens: [t], special: isSpecial });
    } else {
      prev.tokens.push(t);
      prev.end = tok.end;
      prev.text = prompt.slice(prev.start, prev.end).trimStart();
    }
  });
  return groups;
}

/** Per-token scores summed per word (exact sums: the words' scores add up to the tokens'). */
export function wordScores(scores: readonly number[], groups: readonly WordGroup[]): number[] {
  return groups.map((g) => g.tokens.reduce((s, t) => s + (scores[t] ?? 0), 0));
}

/**
 * Which tokens of a run are special: an empty span (added by the tokenizer's template, as BOS is),
 * an id the tokenizer calls special (a chat marker typed in the prompt), or a position named so.
 */
export function specialMask(tokens: readonly ResultToken[], ids: readonly number[] = [], positions: readonly number[] = []): boolean[] {
  const byId = new Set(ids);
  const byPos = new Set(positions);
  return tokens.map((t, s) => t.start === t.end || byId.has(t.id) || byPos.has(s));
}
