// The app's store instance, bound to the engine worker. Tests build their own with
// createAppStore and a stand-in engine.

import { lazyBrowserEngine } from './engine';
import { createAppStore } from './store';

const browserEngine = lazyBrowserEngine();
export const useApp = createAppStore(browserEngine);

// Browser tests reach the engine's test hooks (device loss) through this, only when asked for
// with ?testhooks in the address; a normal page exposes nothing.
if (typeof location !== 'undefined' && new URLSearchParams(location.search).has('testhooks')) {
  (globalThis as { __depass?: unknown }).__depass = { store: useApp, engine: browserEngine };
}
