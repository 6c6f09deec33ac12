// The app's one zustand store, built from eight slices (slices/: model, run, selection, view,
// share, hub, generate, compare), each with its actions beside its state. Components select narrowly (selectors.ts).
// The store talks to the engine only through `Engine` (engine.ts) and holds plain results,
// never GPU objects.

import { create } from 'zustand';
import { HUB_URL } from '../hub/endpoint';
import type { HubAccess } from '../hub/listing';
import type { ModelShelf } from '../share/remembered';
import type { Engine } from './engine';
import { compareSlice } from './slices/compare';
import { generateSlice } from './slices/generate';
import { hubSlice } from './slices/hub';
import { modelSlice } from './slices/model';
import { runSlice } from './slices/run';
import { selectionSlice } from './slices/selection';
import { browserShelf, shareSlice } from './slices/share';
import { viewSlice } from './slices/view';
import type { AppState, StoreContext } from './types';

/** The real Hub through the browser's fetch (bound: fetch must be called on the window). */
const browserHub = (): HubAccess => ({ endpoint: HUB_URL, fetch: (...a) => fetch(...a) });

export function createAppStore(engine: () => Engine, shelf: () => ModelShelf = browserShelf, hub: () => HubAccess = browserHub) {
  const ctx: StoreContext = { engine, shelf, recovery: { files: null }, patternEpoch: 0, hub, hubToken: '', hubAbort: null };
  return create<AppState>()((...a) => ({
    ...modelSlice(ctx)(...a),
    ...runSlice(ctx)(...a),
    ...selectionSlice(ctx)(...a),
    ...viewSlice(ctx)(...a),
    ...shareSlice(ctx)(...a),
    ...hubSlice(ctx)(...a),
    ...generateSlice(ctx)(...a),
    ...compareSlice(ctx)(...a),
  }));
}
