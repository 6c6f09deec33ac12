// The run as a CSV table for "Export CSV" (the top bar: every mode) and the CSV buttons of the
// panels that show one mode: the tidy rows of src/depass/table.ts, every chosen target included as
// Export JSON has them, token ids named from the vocabulary, token rows per word when the views
// show words. Pure over the store's state.

import { resultRows, toCsv } from '../depass/table';
import { wordGroups } from '../depass/words';
import { withChosenTargets } from '../state/chosen-targets';
import { specialOf } from '../state/selectors';
import type { AppState } from '../state/types';

export type TableSource = Pick<AppState, 'result' | 'overrides' | 'vocab' | 'words' | 'shared' | 'specialIds'>;

/** CSV text of the run on screen (of the given modes), or null when there is none. */
export function runCsv(s: TableSource, modes?: string[]): string | null {
  if (!s.result) return null;
  const r = withChosenTargets(s.result, s.overrides);
  const words = s.words ? wordGroups(r.tokens, r.prompt, specialOf(s)) : undefined;
  return toCsv(resultRows(r, { modes, words, tokenText: (id) => s.vocab[id] ?? '' }));
}

export const csvBlob = (text: string): Blob => new Blob([text], { type: 'text/csv;charset=utf-8' });
