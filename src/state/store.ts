// The app's one zustand store, built from five slices (slices/: model, run, selection, view,
// share), each with its actions beside its state. Components select narrowly (selectors.ts).
// The store talks to the engine only through `Engine` (engine.ts) and holds plain results,
// never GPU objects.

import { create } from 'zustand';
import type { ModelShelf } from '../share/remembered';
import type { Engine } from './engine';
import { modelSlice } from './slices/model';
import { runSlice } from './slices/run';
import { selectionSlice } from './slices/selection';
import { browserShelf, shareSlice } from './slices/share';
import { viewSlice } from './slices/view';
import type { AppState, StoreContext } from './types';

export function createAppStore(engine: () => Engine, shelf: () => ModelShelf = browserShelf) {
  const ctx: StoreContext = { engine, shelf, recovery: { files: null }, patternEpoch: 0 };
  return create<AppState>()((...a) => ({
    ...modelSlice(ctx)(...a),
    ...runSlice(ctx)(...a),
    ...selectionSlice(ctx)(...a),
    ...viewSlice(ctx)(...a),
    ...shareSlice(ctx)(...a),
  }));
}
