// The compare slice: a second ordinary run (another prompt, or another target on the same prompt)
// kept beside the run on screen, made with that run's settings. The differences are worked out by
// the pure functions of ../compare.ts; this only runs and keeps the second result.

import type { RunSettings } from '../../worker/protocol';
import { readOnly } from '../selectors';
import type { CompareSlice, Slice } from '../types';
import { failure } from './common';

export const compareSlice: Slice<CompareSlice> = (ctx) => (set, get, api) => {
  let cancel: (() => void) | null = null;

  // Another model loaded: a second run of the previous one can no longer be compared or re-run.
  api.subscribe((s, prev) => {
    if (s.model === prev.model || !s.model || !s.second || s.shared) return;
    if (s.second.result.model.fingerprint !== s.model.fingerprint) {
      cancel?.();
      set({ second: null, comparing: null });
    }
  });

  const fail = (error: string) => set({ comparing: { status: 'failed', error } });

  return {
    second: null,
    comparing: null,
    compared: 0,

    async compareWith(prompt, target, contrast) {
      const s = get();
      if (readOnly(s)) return fail('This is a shared comparison, read-only: re-run it live to compare another prompt.');
      if (!s.model) return fail('Load a model first.');
      if (!s.result || !s.ranWith) return fail('Run the first prompt first; the comparison runs the second one with the same settings.');
      if (s.running || s.generating || s.comparing?.status === 'running') return fail('Wait for the run in progress to finish.');
      if (prompt.length === 0) return fail('Type a second prompt (or the same one with another target).');
      if (contrast !== null && target === null) return fail('Choose a target for the distractor to be compared against.');
      const w = s.ranWith;
      const first = s.result;
      const base: RunSettings = { modes: w.modes, rule: w.rule, layer: w.layer ?? undefined, layerDetail: w.layerDetail };
      const handle = ctx.engine().run(prompt, { ...base, target: target ?? undefined, contrast: contrast ?? undefined });
      // The engine answers attention requests from its last forward pass, which must stay the
      // first run's: a short pass over its prompt is queued right behind the second one, before
      // any pattern request a view can make meanwhile (requests are answered in order).
      const restore =
        prompt === first.prompt ? null : ctx.engine().run(first.prompt, { modes: ['token'], rule: w.rule, positions: 'last', layerDetail: false });
      restore?.result.catch(() => undefined);
      cancel = () => {
        handle.cancel();
        restore?.cancel();
      };
      set({ comparing: { status: 'running' } });
      try {
        const result = await handle.result;
        await restore?.result.catch(() => undefined);
        if (get().comparing?.status !== 'running') return;
        set((st) => ({ second: { result, overrides: [], target, contrast }, comparing: null, compared: st.compared + 1 }));
      } catch (err) {
        const f = failure(err);
        if (get().comparing?.status !== 'running') return;
        set({ comparing: f.kind === 'cancelled' ? null : { status: 'failed', error: f.message } });
      } finally {
        cancel = null;
      }
    },

    closeCompare() {
      cancel?.();
      set({ second: null, comparing: null });
    },
  };
};
