// The selection slice: the position shown, the pinned head with the attention patterns fetched
// for the prompt, the pinned neuron with the tokens neurons promote, and Esc.

import { headKey, readOnly, shownPosition } from '../selectors';
import type { Pattern, SelectionSlice, Slice } from '../types';
import { failure } from './common';

export const selectionSlice: Slice<SelectionSlice> = (ctx) => (set, get) => ({
  selected: null,
  pinnedHead: null,
  patterns: {},
  pinnedNeuron: null,
  promotes: {},
  select: (position) => set({ selected: position, ablation: null }),
  move(delta) {
    const { result, selected } = get();
    const p = shownPosition(result, selected);
    if (p === null || !result) return;
    const T = result.tokens.length;
    set({ selected: Math.min(T - 1, Math.max(0, p + delta)), ablation: null });
  },
  pinHead(h) {
    set({ pinnedHead: h });
    if (h) get().fetchPatterns([h]);
  },
  fetchPatterns(heads) {
    if (readOnly(get())) {
      // The link carries no attention patterns, and the loaded model's would belong to another run.
      // Set once per head: views that ask again on every change must not loop.
      const fresh = heads.map(headKey).filter((key) => !get().patterns[key]);
      if (fresh.length === 0) return;
      const absent: Record<string, Pattern> = {};
      for (const key of fresh) absent[key] = { status: 'absent', note: 'Attention patterns are not part of a shared link; re-run it live to see them.' };
      set((s) => ({ patterns: { ...s.patterns, ...absent } }));
      return;
    }
    for (const h of heads) {
      const key = headKey(h);
      const cur = get().patterns[key];
      if (cur && cur.status !== 'failed' && cur.status !== 'absent') continue;
      set((s) => ({ patterns: { ...s.patterns, [key]: { status: 'loading' } } }));
      const epoch = ctx.patternEpoch;
      ctx
        .engine()
        .attention(h.layer, h.head)
        .then(
          ({ T, A }) => ({ status: 'done', T, A }) as Pattern,
          (err: unknown) => ({ status: 'failed', error: failure(err).message }) as Pattern,
        )
        .then((p) => {
          // Patterns cleared meanwhile (new prompt or model): this answer may be stale.
          if (epoch !== ctx.patternEpoch || get().patterns[key]?.status !== 'loading') return;
          set((s) => ({ patterns: { ...s.patterns, [key]: p } }));
        });
    }
  },
  pinNeuron: (j) => set({ pinnedNeuron: j }),
  async fetchPromotes(layer, neurons) {
    if (readOnly(get())) return;
    const have = get().promotes;
    const need = neurons.filter((j) => !have[`${layer}:${j}`]);
    if (need.length === 0) return;
    try {
      const got = await ctx.engine().promotes(layer, need, 5);
      set((s) => {
        const next = { ...s.promotes };
        for (const g of got) next[`${layer}:${g.neuron}`] = g.top;
        return { promotes: next };
      });
    } catch {
      // Promoted tokens are decoration; the neuron scores stand without them.
    }
  },
  escape() {
    const { pinnedHead, pinnedNeuron, selected } = get();
    if (pinnedHead || pinnedNeuron !== null) set({ pinnedHead: null, pinnedNeuron: null });
    else if (selected !== null) set({ selected: null, ablation: null });
  },
});
