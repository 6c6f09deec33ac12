// The caption block of a comparison's exported pictures: the view and the model once, then each
// run's prompt, position and target (first, then second), then the sign of the differences and
// the rule. Pure, built from the single run's caption lines so both read alike.

import type { Comparison } from '../state/compare';
import { captionLines } from './export-caption';

export function comparisonCaption(view: string, c: Comparison, vocab: string[], shared: boolean): string[] {
  const [head, promptA, whereA, rule] = captionLines(view, c.first, vocab, shared);
  const [, promptB, whereB] = captionLines(view, c.second, vocab, shared);
  return [
    `${head} · comparison of two runs`,
    `first ${promptA}`,
    `first: ${whereA}`,
    `second ${promptB}`,
    `second: ${whereB}`,
    `differences are first − second · ${rule}`,
  ];
}

/**
 * Two prompts cut to `max` characters each around where they first differ, so a minimal pair
 * that differs near its end does not read as the same text: "…Tom has a gray bike. Mia's bike is".
 */
export function promptsAround(a: string, b: string, max: number): [string, string] {
  let d = 0;
  while (d < a.length && d < b.length && a[d] === b[d]) d++;
  const start = Math.max(0, Math.min(d - Math.floor(max / 2), Math.max(a.length, b.length) - max));
  const cut = (t: string) => {
    const from = Math.min(start, Math.max(0, t.length - max));
    const body = t.slice(from, from + max);
    return `${from > 0 ? '…' : ''}${body}${from + max < t.length ? '…' : ''}`;
  };
  return [cut(a), cut(b)];
}
