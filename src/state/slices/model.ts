// The model slice: the loaded model, its files and vocabulary, and the load in progress or failed
// (the previous model stays loaded when a load fails).

import type { ModelSlice, Slice } from '../types';
import { clearedResult, clearedSelection, failure, fileRows } from './common';

export const modelSlice: Slice<ModelSlice> = (ctx) => (set, get) => ({
  model: null,
  modelFiles: [],
  vocab: [],
  specialIds: [],
  load: null,
  notice: null,
  modelSource: null,
  async loadModel(files, label) {
    set({ load: { label, files: fileRows(files), status: 'loading' }, notice: null });
    try {
      const info = await ctx.engine().load(files);
      const V = info.description.vocab_size;
      const { texts, special } = await ctx.engine().vocab();
      const table = Array.from({ length: V }, (_, id) => texts[id] ?? '');
      ctx.recovery.files = files;
      // A model whose fingerprint matches a copy downloaded from the Hub is that Hub model.
      const modelSource = get().shelf.models.find((m) => m.fingerprint === info.fingerprint && m.source)?.source ?? null;
      const shared = get().shared;
      if (shared) {
        // A shared run stays on screen, read-only, whichever model is loaded under it.
        set({
          model: info,
          modelSource,
          modelFiles: fileRows(files),
          load: null,
          specialIds: special,
          shared: { ...shared, modelVocab: table },
          tokens: [],
          tokensFor: '',
        });
        void get().tokenize(get().prompt);
        return true;
      }
      set({
        model: info,
        modelSource,
        modelFiles: fileRows(files),
        vocab: table,
        specialIds: special,
        load: null,
        ...clearedResult(),
        ...clearedSelection(ctx),
        tokens: [],
        tokensFor: '',
        settings: { ...get().settings, layer: null },
      });
      void get().tokenize(get().prompt);
      return true;
    } catch (err) {
      set({ load: { label, files: fileRows(files), status: 'failed', error: failure(err) } });
      return false;
    }
  },
  dismissLoad: () => set({ load: null }),
});
