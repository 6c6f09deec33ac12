// The store's share slice: a run opened from a link (shown read-only, never mixed with another
// model's engine answers), its live re-run against the matching model, and the models
// remembered on this computer. Decoding links happens elsewhere (decode.ts); this takes
// decoded runs. Actions beside state, as in the other slices.

import type { ModelFile } from '../../model/files';
import { ModelShelf, StorageError } from '../../share/remembered';
import { sharedOverrides, vocabTable } from '../../share/snapshot';
import type { ShareSlice, Shelf, Slice } from '../types';
import { clearedResult, clearedSelection } from './common';

const message = (e: unknown) => (e instanceof StorageError ? e.message : e instanceof Error ? e.message : String(e));
const sizeText = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`);

export const shareSlice: Slice<ShareSlice> = (ctx) => (set, get, api) => {
  /** Resolves when no run is in progress. */
  const idle = () =>
    new Promise<void>((resolve) => {
      if (!get().running) return resolve();
      const unsub = api.subscribe((s) => {
        if (!s.running) {
          unsub();
          resolve();
        }
      });
    });

  const updateShelf = (patch: Partial<Shelf>) => set((s) => ({ shelf: { ...s.shelf, ...patch } }));

  return {
    shared: null,
    linkError: null,
    linkOpening: false,
    shelf: { available: null, models: [], usage: null, persisted: null, busy: null, error: null },

    openShared(run, chars, second = null) {
      const s = get();
      if (s.running) s.cancel();
      if (s.comparing?.status === 'running') s.closeCompare();
      const r = run.result;
      set({
        second: second && {
          result: second.result,
          overrides: sharedOverrides(second).map((o) => ({ position: o.position, target: o.target, contrast: o.contrast, result: o.result })),
          target: second.settings.target ?? null,
          contrast: second.settings.contrast ?? null,
        },
        comparing: null,
        shared: { run, chars, modelVocab: s.shared ? s.shared.modelVocab : s.model ? s.vocab : null },
        linkError: null,
        linkOpening: false,
        result: r,
        resultState: 'complete',
        overrides: sharedOverrides(run).map((o) => ({ position: o.position, target: o.target, contrast: o.contrast, result: o.result })),
        ranWith: null,
        runNote: null,
        runError: null,
        ablation: null,
        selected: run.view.selected,
        pinnedHead: run.view.head,
        pinnedNeuron: run.view.neuron ?? null,
        patterns: {},
        promotes: {},
        flowThreshold: run.view.threshold,
        words: run.view.words ?? false,
        hideSpecial: run.view.hideSpecial ?? false,
        generation: run.view.generated
          ? { text: r.prompt, from: r.tokens[run.view.generated.first]!.start, temperature: run.view.generated.temperature, seed: run.view.generated.seed }
          : null,
        vocab: second ? mergedVocab(vocabTable(run), vocabTable(second)) : vocabTable(run),
        prompt: r.prompt,
        settings: {
          modes: run.settings.modes,
          rule: run.settings.rule,
          layer: run.settings.layer ?? run.view.layer ?? null,
          layerDetail: run.settings.layerDetail ?? r.token?.by_layer !== undefined,
        },
      });
      // Marks the pinned head's pattern as not in the link, rather than waiting for it.
      if (run.view.head) get().fetchPatterns([run.view.head]);
    },

    setLinkState({ opening, error }) {
      set((s) => ({ linkOpening: opening ?? s.linkOpening, linkError: error === undefined ? s.linkError : error }));
    },

    closeShared() {
      const s = get();
      if (!s.shared) return;
      set({ shared: null, second: null, comparing: null, vocab: s.shared.modelVocab ?? [], ...clearedResult(), ...clearedSelection(ctx) });
    },

    async rerunShared() {
      const first = get().shared;
      if (!first) return;
      const fp = first.run.result.model.fingerprint;
      if (get().model?.fingerprint !== fp) {
        const remembered = get().shelf.models.some((m) => m.fingerprint === fp);
        const source = first.run.source;
        if (!remembered && !source) {
          set({ runError: { kind: 'input', message: `Load ${first.run.result.model.name} (the model this run was made with) to re-run it.` } });
          return;
        }
        // The link's commit from the Hub when it is not remembered here; either way the
        // fingerprint decides whether it is the run's model.
        const loaded = remembered ? await get().loadRemembered(fp) : await get().downloadFromHub(`${source!.hub}@${source!.revision}`);
        if (!loaded) return;
        if (get().model?.fingerprint !== fp) {
          const got = get().model?.fingerprint ?? '?';
          set({
            runError: {
              kind: 'model',
              message: remembered
                ? 'The remembered copy loads as a different model (its fingerprint changed); the shared run stays read-only.'
                : `The model downloaded from the Hub (${source!.hub} at ${source!.revision.slice(0, 7)}) has fingerprint ${got}, not the link's ${fp}; the shared run stays read-only.`,
            },
          });
          return;
        }
      }
      const shared = get().shared;
      if (!shared) return;
      const run = shared.run;
      // A shared comparison re-runs its second prompt (and target) too, once the first is live.
      const second = get().second;
      const view = run.view;
      await idle();
      // Leaving read-only: the model's own vocabulary, the link's prompt and settings. The
      // link's result stays on screen until the live one replaces it (same prompt, so the
      // selection and pins are kept).
      set((s) => ({
        shared: null,
        vocab: shared.modelVocab ?? s.vocab,
        overrides: [],
        patterns: {},
        promotes: {},
        prompt: run.result.prompt,
        settings: {
          modes: run.settings.modes,
          rule: run.settings.rule,
          layer: run.settings.layer ?? view.layer ?? null,
          layerDetail: run.settings.layerDetail ?? run.result.token?.by_layer !== undefined,
        },
      }));
      get().run();
      await idle();
      if (get().result?.prompt !== run.result.prompt || get().runError) return;
      if (view.head) get().fetchPatterns([view.head]);
      const chosen = sharedOverrides(run);
      if (chosen.length > 0) {
        // The link's target re-runs, each at its own position; then the link's selection again.
        for (const o of chosen) {
          set({ selected: o.position });
          get().setTarget(o.target, o.contrast);
          await idle();
          if (get().result?.prompt !== run.result.prompt) return;
        }
        set({ selected: view.selected });
      }
      if (second) await get().compareWith(second.result.prompt, second.target, second.contrast);
    },

    async refreshShelf() {
      const shelf = ctx.shelf();
      if (!shelf.available) return updateShelf({ available: false });
      try {
        const [models, usage, persisted] = await Promise.all([shelf.list(), shelf.usage(), shelf.persisted()]);
        updateShelf({ available: true, models, usage, persisted });
      } catch (e) {
        updateShelf({ available: !(e instanceof StorageError && e.kind === 'unavailable'), error: message(e) });
      }
    },

    async rememberLoaded() {
      const { model, shelf } = get();
      const files = ctx.recovery.files;
      if (!model || !files || shelf.busy) return;
      const store = ctx.shelf();
      updateShelf({ busy: `Saving ${model.name}…`, error: null });
      try {
        // Asked when the user opts in: without it the browser may clear the copy under pressure.
        const persisted = await store.persist();
        await store.remember({ name: model.name, fingerprint: model.fingerprint }, files, (done, total) =>
          updateShelf({ busy: `Saving ${model.name}… ${sizeText(done)} of ${sizeText(total)}` }),
        );
        updateShelf({ busy: null, persisted });
      } catch (e) {
        updateShelf({ busy: null, error: `Could not remember ${model.name}: ${message(e)}. The model stays loaded.` });
      }
      await get().refreshShelf();
    },

    async forgetModel(fingerprint) {
      const shelf = ctx.shelf();
      updateShelf({ busy: 'Removing…', error: null });
      try {
        await shelf.forget(fingerprint);
        updateShelf({ busy: null });
      } catch (e) {
        updateShelf({ busy: null, error: message(e) });
      }
      await get().refreshShelf();
    },

    async loadRemembered(fingerprint) {
      const shelf = ctx.shelf();
      updateShelf({ busy: 'Opening the remembered model…', error: null });
      let files: ModelFile[];
      let name: string;
      try {
        const got = await shelf.open(fingerprint);
        files = got.files;
        name = got.model.name;
        updateShelf({ busy: null });
      } catch (e) {
        updateShelf({ busy: null, error: message(e) });
        return false;
      }
      const ok = await get().loadModel(files, `${name} (remembered)`);
      if (ok && get().model?.fingerprint !== fingerprint) {
        updateShelf({
          error: `The remembered copy of ${name} loads with another fingerprint than it was saved under; remove it and remember the model again.`,
        });
      }
      return ok;
    },
  };
};

/** Two links' vocabulary tables as one (the same model's, so an id means the same text in both). */
function mergedVocab(a: string[], b: string[]): string[] {
  const out = a.length >= b.length ? a.slice() : b.slice();
  const other = a.length >= b.length ? b : a;
  other.forEach((t, id) => {
    if (t && !out[id]) out[id] = t;
  });
  return out;
}

export const browserShelf = (() => {
  let shelf: ModelShelf | null = null;
  return () => (shelf ??= new ModelShelf());
})();
