// The view settings slice: what only changes how results are drawn.

import type { Slice, ViewSlice } from '../types';

export const viewSlice: Slice<ViewSlice> = () => (set) => ({
  flowThreshold: 0.1,
  ablateK: 3,
  ablateSource: 'head',
  words: false,
  hideSpecial: false,
  setView: (patch) => set(patch),
});
