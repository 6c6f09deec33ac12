// The generate slice: "Generate n tokens" continues the prompt (greedy, or sampled with a
// temperature and seed), puts the whole text in the prompt box and runs attribution on it; one
// token-mode pass then explains every generated token, each from the position before it.

import { readOnly } from '../selectors';
import type { GenerateSlice, Slice } from '../types';
import { failure } from './common';

export const generateSlice: Slice<GenerateSlice> = (ctx) => (set, get) => {
  let cancel: (() => void) | null = null;
  return {
    generation: null,
    generateSettings: { n: 8, temperature: 0, seed: 1 },
    generating: false,
    generateError: null,
    setGenerateSettings: (patch) => set((s) => ({ generateSettings: { ...s.generateSettings, ...patch } })),
    async generate() {
      const { model, prompt, generating, running, generateSettings } = get();
      if (readOnly(get())) return set({ generateError: 'This is a shared run, read-only: close it to generate from your own prompt.' });
      if (!model) return set({ generateError: 'Load a model first.' });
      if (prompt.length === 0) return set({ generateError: 'Type a prompt to continue first.' });
      if (generating || running) return;
      const { n, temperature, seed } = generateSettings;
      const h = ctx.engine().generate(prompt, n, temperature, seed);
      cancel = h.cancel;
      set({ generating: true, generateError: null });
      try {
        const g = await h.result;
        cancel = null;
        if (g.ids.length === 0) {
          return set({ generating: false, generateError: 'The model ended the text at once (an end-of-sequence token, or its length): nothing was added.' });
        }
        set({ generating: false, prompt: g.text, generation: { text: g.text, from: prompt.length, temperature, seed, stopped: g.stopped } });
        await get().tokenize(g.text);
        get().run();
      } catch (err) {
        cancel = null;
        const f = failure(err);
        set({ generating: false, generateError: f.kind === 'cancelled' ? null : f.message });
      }
    },
    cancelGenerate() {
      cancel?.();
    },
    explainGenerated(position) {
      const { result } = get();
      const token = result?.tokens[position];
      if (!result || !token || position < 1) return;
      get().select(position - 1);
      // The model's own prediction there may be another token (sampling): then that token is chosen as the target.
      const chosen = get().overrides.find((o) => o.position === position - 1);
      const target = chosen ? (chosen.contrast === null ? chosen.target : null) : (result.targets.find((t) => t.position === position - 1)?.id ?? null);
      if (target !== token.id && !readOnly(get())) get().setTarget(token.id, null);
    },
  };
};
