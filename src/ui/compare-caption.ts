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
