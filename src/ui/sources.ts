// Sources as the views list them: the prompt's tokens, or its words (a word's score is the sum of
// its tokens' scores, so every total stays exact), with special tokens (BOS, chat-template markers)
// optionally set apart and shown as one total, like a rest. Pure: no store, no DOM.

import type { ResultToken } from '../depass/result';
import { wordGroups } from '../depass/words';

export interface Source {
  /** What is shown: the token's own text, or the word's text in the prompt. */
  text: string;
  /** Token positions it covers, ascending. */
  positions: number[];
  first: number;
  last: number;
  special: boolean;
}

export interface SourceSet {
  /** Every source, in prompt order, special ones included. */
  all: Source[];
  /** What the views draw and rank: `all`, less the special sources when those are hidden. */
  shown: Source[];
  /** Positions of the hidden special tokens (empty when nothing is hidden). */
  hidden: number[];
  words: boolean;
  hideSpecial: boolean;
}

export function sourceSet(
  tokens: readonly ResultToken[],
  prompt: string,
  special: readonly boolean[],
  opts: { words: boolean; hideSpecial: boolean },
): SourceSet {
  const all: Source[] = opts.words
    ? wordGroups(tokens, prompt, special).map((g) => ({
        text: g.text,
        positions: g.tokens,
        first: g.tokens[0]!,
        last: g.tokens[g.tokens.length - 1]!,
        special: g.special,
      }))
    : tokens.map((t, s) => ({ text: t.text, positions: [s], first: s, last: s, special: special[s] === true }));
  const shown = opts.hideSpecial ? all.filter((u) => !u.special) : all;
  const hidden = opts.hideSpecial ? all.filter((u) => u.special).flatMap((u) => u.positions) : [];
  return { all, shown, hidden, words: opts.words, hideSpecial: opts.hideSpecial };
}

/** A per-token row summed over some positions (a word, or the hidden special tokens). */
export function sumAt(row: ArrayLike<number>, positions: readonly number[]): number {
  let sum = 0;
  for (const s of positions) sum += row[s] ?? 0;
  return sum;
}

/** A source's position(s) as labels show them: "3", "3–5", or "0,4" when they are not adjacent. */
export function spanLabel(positions: readonly number[]): string {
  if (positions.length === 1) return String(positions[0]);
  const contiguous = positions.every((p, k) => k === 0 || p === positions[k - 1]! + 1);
  return contiguous ? `${positions[0]}–${positions[positions.length - 1]}` : positions.join(',');
}

/** The source that holds a position, or null when it is hidden. */
export function sourceAt(set: SourceSet, position: number): Source | null {
  return set.shown.find((u) => u.first <= position && position <= u.last) ?? null;
}

/** Sources up to a position (those that can contribute to its prediction), ranked by |score|, strongest first. */
export function rankSources(set: SourceSet, row: ArrayLike<number>, position: number): { source: Source; score: number }[] {
  return set.shown
    .filter((u) => u.first <= position)
    .map((source) => ({ source, score: sumAt(row, source.positions) }))
    .filter((x) => Number.isFinite(x.score))
    .sort((a, b) => Math.abs(b.score) - Math.abs(a.score));
}

/** The hidden special tokens up to a position, as one entry; null when none is hidden there. */
export function hiddenTotal(set: SourceSet, row: ArrayLike<number>, position: number): { positions: number[]; score: number } | null {
  const positions = set.hidden.filter((s) => s <= position);
  return positions.length > 0 ? { positions, score: sumAt(row, positions) } : null;
}
