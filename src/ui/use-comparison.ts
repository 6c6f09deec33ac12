// The comparison the views show, from the store: the run on screen at the selected position and
// the second run at the position aligned with it (state/compare.ts), and the caption block their
// exports carry. No numbers are worked out here.

import { useMemo } from 'react';
import { useApp } from '../state';
import { compareRuns, type Comparison } from '../state/compare';
import { comparisonCaption } from './compare-caption';

export function useComparison(): Comparison | null {
  const result = useApp((s) => s.result);
  const overrides = useApp((s) => s.overrides);
  const selected = useApp((s) => s.selected);
  const second = useApp((s) => s.second);
  return useMemo(() => (second ? compareRuns(result, overrides, selected, second.result, second.overrides) : null), [result, overrides, selected, second]);
}

/** The caption lines of a comparison view's exports: both runs. */
export function useComparisonCaption(view: string, c: Comparison | null): () => string[] {
  const vocab = useApp((s) => s.vocab);
  const shared = useApp((s) => s.shared !== null);
  return () => (c ? comparisonCaption(view, c, vocab, shared) : []);
}
