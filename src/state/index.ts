// The app's store instance, bound to the engine worker. Tests build their own with
// createAppStore and a stand-in engine.

import { browserEngine } from './engine';
import { createAppStore } from './store';

export const useApp = createAppStore(browserEngine);
export type { AppState } from './store';
