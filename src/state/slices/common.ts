// Helpers every slice shares: failures as plain data, file rows, and the cleared state of a
// run's outputs (what a new model, a new prompt or closing a shared run wipes).

import type { ModelFile } from '../../model/files';
import { EngineError } from '../../worker/client';
import type { Failure, FileRow, RunSlice, SelectionSlice, StoreContext } from '../types';

export function failure(err: unknown): Failure {
  if (err instanceof EngineError) return { kind: err.kind, message: err.message, file: err.file };
  return { kind: 'internal', message: err instanceof Error ? err.message : String(err) };
}

export const fileRows = (files: ModelFile[]): FileRow[] => files.map((f) => ({ path: f.path, size: f.blob.size }));

/** No result on screen. */
export const clearedResult = (): Pick<RunSlice, 'result' | 'resultState' | 'ranWith' | 'runNote' | 'overrides' | 'runError' | 'ablation'> => ({
  result: null,
  resultState: null,
  ranWith: null,
  runNote: null,
  overrides: [],
  runError: null,
  ablation: null,
});

/** Nothing selected or pinned, and no fetched patterns (late answers for the old ones are dropped). */
export const clearedSelection = (ctx: StoreContext): Pick<SelectionSlice, 'selected' | 'pinnedHead' | 'patterns' | 'pinnedNeuron' | 'promotes'> => {
  ctx.patternEpoch++;
  return { selected: null, pinnedHead: null, patterns: {}, pinnedNeuron: null, promotes: {} };
};
