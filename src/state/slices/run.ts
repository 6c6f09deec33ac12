// The prompt and run slice: the prompt and its tokens, the run settings, the run in progress with
// its progress and partial results, the shown result, a target re-run at one position, and the
// ablation check. After the engine restarts it loads the same files again and keeps the results.

import type { DepassResult } from '../../depass/result';
import type { RunHandle } from '../../worker/client';
import type { RunSettings } from '../../worker/protocol';
import { planAblation } from '../ranking';
import { focusOf, promptLengthProblem, readOnly, shownPosition } from '../selectors';
import type { Mode } from '../../depass/result';
import type { AblationOutcome, Failure, RanWith, RunSlice, Running, Slice } from '../types';
import { clearedSelection, failure } from './common';

export const runSlice: Slice<RunSlice> = (ctx) => (set, get) => {
  let handle: RunHandle | null = null;
  let tokenizeSeq = 0;

  /** After the watchdog restarted the worker, the model is gone: load the same files again. */
  const recover = async (f: Failure) => {
    if (f.kind !== 'unresponsive' || !ctx.recovery.files) return;
    const files = ctx.recovery.files;
    const keep = { result: get().result, resultState: get().resultState, ranWith: get().ranWith, overrides: get().overrides, selected: get().selected };
    set({ notice: 'The engine stopped answering and was restarted; reloading the model.' });
    if (await get().loadModel(files, 'reload after restart')) {
      set({ ...keep, notice: 'The engine was restarted and the model reloaded; results were kept.' });
    }
  };

  const start = (kind: Running['kind'], prompt: string, settings: RunSettings, onDone: (r: DepassResult, partial: boolean) => void) => {
    if (handle) handle.cancel();
    const h = ctx.engine().run(
      prompt,
      settings,
      (progress) => {
        if (handle === h) set((s) => ({ running: s.running && { ...s.running, progress } }));
      },
      (mode, r) => {
        if (handle !== h) return;
        set((s) => ({ running: s.running && { ...s.running, modesDone: [...s.running.modesDone, mode] } }));
        onDone(r, true);
      },
    );
    handle = h;
    set({ running: { kind, progress: null, modesDone: [], startedAt: Date.now() }, runError: null, runNote: null });
    h.result.then(
      (r) => {
        if (handle !== h) return;
        handle = null;
        onDone(r, false);
        set((s) => ({ running: null, completedRuns: s.completedRuns + 1 }));
      },
      (err: unknown) => {
        if (handle !== h) return;
        handle = null;
        const f = failure(err);
        set((s) => ({
          running: null,
          runError: f.kind === 'cancelled' ? null : f,
          runNote: f.kind === 'cancelled' ? 'cancelled' : null,
          resultState: f.kind === 'cancelled' && s.resultState === 'partial' ? 'cancelled' : s.resultState,
        }));
        void recover(f);
      },
    );
  };

  const runSettings = (): RunSettings => {
    const { settings, model } = get();
    const L = model?.description.num_hidden_layers ?? 1;
    return {
      modes: settings.modes,
      rule: settings.rule,
      layer: settings.modes.some((m) => m === 'neuron' || m === 'module') ? (settings.layer ?? L - 1) : undefined,
      layerDetail: settings.layerDetail,
    };
  };

  return {
    prompt: '',
    tokens: [],
    tokensFor: '',
    tokenizeError: null,
    promptMemory: null,
    settings: { modes: ['token', 'head'], rule: 'softmax', layer: null, layerDetail: true },
    running: null,
    result: null,
    resultState: null,
    ranWith: null,
    runNote: null,
    overrides: [],
    runError: null,
    ablation: null,
    completedRuns: 0,
    setPrompt: (text) => set({ prompt: text }),
    async tokenize(text) {
      if (!get().model) return;
      const seq = ++tokenizeSeq;
      try {
        const { tokens, memory } = await ctx.engine().tokenize(text);
        if (seq === tokenizeSeq) set({ tokens, tokensFor: text, tokenizeError: null, promptMemory: memory });
      } catch (err) {
        if (seq === tokenizeSeq) set({ tokenizeError: failure(err).message });
      }
    },
    setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
    toggleMode: (mode) =>
      set((s) => {
        const has = s.settings.modes.includes(mode);
        const order: Mode[] = ['token', 'head', 'neuron', 'module', 'subspace'];
        const modes = has ? s.settings.modes.filter((m) => m !== mode) : order.filter((m) => m === mode || s.settings.modes.includes(m));
        return { settings: { ...s.settings, modes } };
      }),
    run() {
      const { model, prompt, settings } = get();
      if (readOnly(get()))
        return set({ runError: { kind: 'input', message: 'This is a shared run, read-only: re-run it live or close it to run your own prompt.' } });
      if (!model) return set({ runError: { kind: 'input', message: 'Load a model first.' } });
      if (settings.modes.length === 0) return set({ runError: { kind: 'input', message: 'Choose at least one mode.' } });
      if (prompt.length === 0) return set({ runError: { kind: 'input', message: 'Type a prompt first.' } });
      const tooLong = promptLengthProblem(get());
      if (tooLong) return set({ runError: { kind: 'input', message: tooLong } });
      const rs = runSettings();
      const ranWith: RanWith = {
        prompt,
        modes: settings.modes,
        rule: settings.rule,
        layer: rs.layer ?? null,
        layerDetail: settings.layerDetail,
        fingerprint: model.fingerprint,
      };
      start('run', prompt, rs, (r, partial) => {
        if (readOnly(get())) return;
        const keepSel = get().result?.prompt === r.prompt;
        set({
          result: r,
          resultState: partial ? 'partial' : 'complete',
          ranWith,
          overrides: [],
          ablation: null,
          ...(keepSel ? {} : clearedSelection(ctx)),
        });
      });
    },
    cancel() {
      handle?.cancel();
    },
    setTarget(target, contrast) {
      const { result, selected, running, ranWith } = get();
      const position = shownPosition(result, selected);
      // One run at a time: a target change would otherwise cancel the run in progress.
      if (!result || position === null || running) return;
      if (readOnly(get())) return set({ runError: { kind: 'input', message: 'This is a shared run, read-only: re-run it live to explain another token.' } });
      const predicted = result.predictions[position].top[0]?.id;
      const others = get().overrides.filter((o) => o.position !== position);
      if ((target === null || target === predicted) && contrast === null) {
        set({ overrides: others, ablation: null });
        return;
      }
      const id = target ?? predicted;
      // The re-run explains the result on screen, so it uses that result's settings, not the ones edited since.
      const base: RunSettings = ranWith
        ? { modes: ranWith.modes, rule: ranWith.rule, layer: ranWith.layer ?? undefined, layerDetail: ranWith.layerDetail }
        : runSettings();
      start('target', result.prompt, { ...base, positions: [position], target: id, contrast: contrast ?? undefined }, (r) => {
        if (get().result?.prompt !== r.prompt || readOnly(get())) return;
        const kept = get().overrides.filter((o) => o.position !== position);
        const overrides = [...kept, { position, target: id, contrast, result: r }].sort((a, b) => a.position - b.position);
        set({ overrides, ablation: null });
      });
    },
    async ablate(source, k) {
      const { result, overrides, selected } = get();
      const f = focusOf(result, overrides, selected);
      if (!f) return;
      if (readOnly(get())) return set({ runError: { kind: 'input', message: 'This is a shared run, read-only: re-run it live to ablate.' } });
      const plan = planAblation(f, source, k, (s) => f.result.tokens[s]?.text ?? '');
      if (!plan) return;
      const base: AblationOutcome = {
        source,
        k,
        position: f.position,
        targetId: f.target.id,
        removed: plan.removed,
        predicted: plan.predicted,
        status: 'running',
      };
      set({ ablation: base });
      try {
        const r = await ctx.engine().ablate(f.result.prompt, plan.spec, [{ position: f.position, id: f.target.id, contrast_id: f.target.contrast_id }]);
        if (get().ablation !== base) return;
        set({ ablation: { ...base, status: 'done', baseline: r.baseline[0], ablated: r.logits[0], top: r.top[0] } });
      } catch (err) {
        if (get().ablation !== base) return;
        const f2 = failure(err);
        set({ ablation: { ...base, status: 'failed', error: f2.message } });
        void recover(f2);
      }
    },
  };
};
