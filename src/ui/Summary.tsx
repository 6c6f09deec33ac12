// The one-sentence summary of the top contributors, announced politely to screen readers and
// shown as text for everyone.

import { useMemo } from 'react';
import { useApp } from '../state';
import { useFocus, useSources } from './common';
import { summarize } from './summary';

export function Summary() {
  const f = useFocus();
  const vocab = useApp((s) => s.vocab);
  const shared = useApp((s) => s.shared !== null);
  const sources = useSources(f);
  const text = useMemo(() => (f ? summarize(f, vocab, 3, shared, sources ?? undefined) : ''), [f, vocab, shared, sources]);
  return (
    <p className="summary" aria-live="polite" data-testid="summary">
      {text}
    </p>
  );
}
