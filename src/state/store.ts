// The app's one zustand store, built from five slices (model, prompt/run, selection, view
// settings, and sharing from src/share/slice.ts) with their actions beside the state. Components select narrowly. The store talks to
// the engine only through `Engine` (engine.ts) and holds plain results, never GPU objects.

import { create, type StateCreator } from 'zustand';
import type { DepassResult, Mode, Rule, TopEntry } from '../depass/result';
import type { ModelFile } from '../model/files';
import type { ModelShelf } from '../share/remembered';
import { browserShelf, readOnly, shareSlice, type ShareSlice } from '../share/slice';
import type { TokenSpan } from '../model/tokenizer-types';
import { EngineError, type Progress, type RunHandle } from '../worker/client';
import type { ModelInfo, RunSettings } from '../worker/protocol';
import type { Engine } from './engine';
import { focusOf, shownPosition, type Override } from './focus';
import { planAblation, type AblateSource, type RankedComponent } from './ranking';

export interface FileRow {
  path: string;
  size: number;
}

export interface Failure {
  kind: string;
  message: string;
  file?: string;
}

// ---- model slice -----------------------------------------------------------------------------

export interface ModelSlice {
  model: ModelInfo | null;
  /** Files of the loaded model. */
  modelFiles: FileRow[];
  /** Id -> display text for the loaded vocabulary (for predictions, search and lists). */
  vocab: string[];
  /** The most recent load: in progress, or failed (the previous model stays loaded). */
  load: { label: string; files: FileRow[]; status: 'loading' | 'failed'; error?: Failure } | null;
  /** A notice about the engine (restart, recovery). */
  notice: string | null;
  loadModel(files: ModelFile[], label: string): Promise<boolean>;
  dismissLoad(): void;
}

// ---- prompt / run slice ----------------------------------------------------------------------

export interface RunSettingsUI {
  modes: Mode[];
  rule: Rule;
  /** Layer for neuron and module modes; null means the last layer. */
  layer: number | null;
  /** Per-layer token read-out and logit lens. */
  layerDetail: boolean;
}

export interface Running {
  kind: 'run' | 'target';
  progress: Progress | null;
  modesDone: Mode[];
  startedAt: number;
}

export interface AblationOutcome {
  source: AblateSource;
  k: number;
  position: number;
  targetId: number;
  removed: RankedComponent[];
  predicted: number;
  status: 'running' | 'done' | 'failed';
  baseline?: number;
  ablated?: number;
  /** Top tokens at the position after ablation. */
  top?: TopEntry[];
  error?: string;
}

export interface RunSlice {
  prompt: string;
  tokens: TokenSpan[];
  /** The text `tokens` belong to (tokenizing lags typing). */
  tokensFor: string;
  tokenizeError: string | null;
  settings: RunSettingsUI;
  running: Running | null;
  result: DepassResult | null;
  resultState: 'complete' | 'partial' | 'cancelled' | null;
  override: Override | null;
  runError: Failure | null;
  ablation: AblationOutcome | null;
  /** Runs (and target re-runs) finished so far; lets observers wait for the next one. */
  completedRuns: number;
  setPrompt(text: string): void;
  tokenize(text: string): Promise<void>;
  setSettings(patch: Partial<RunSettingsUI>): void;
  toggleMode(mode: Mode): void;
  run(): void;
  cancel(): void;
  /** Explain another token (or a contrast) at the shown position; null, null resets. */
  setTarget(target: number | null, contrast: number | null): void;
  ablate(source: AblateSource, k: number): Promise<void>;
}

// ---- selection slice -------------------------------------------------------------------------

export interface HeadRef {
  layer: number;
  head: number;
}

/** An attention pattern of the last forward pass, [T, T] (query, key). */
export type Pattern = { status: 'loading' } | { status: 'done'; T: number; A: Float32Array } | { status: 'failed'; error: string };

export const headKey = (h: HeadRef) => `${h.layer}:${h.head}`;

/** Bumped whenever the pattern cache is emptied, so late answers for the old prompt are dropped. */
let patternEpoch = 0;
function noPatterns(): Record<string, Pattern> {
  patternEpoch++;
  return {};
}

export interface SelectionSlice {
  /** Selected position; null shows the last one. */
  selected: number | null;
  pinnedHead: HeadRef | null;
  /** Attention patterns fetched so far for the current prompt, keyed "layer:head". */
  patterns: Record<string, Pattern>;
  pinnedNeuron: number | null;
  /** Tokens each neuron's write promotes, keyed "layer:neuron". */
  promotes: Record<string, TopEntry[]>;
  select(position: number | null): void;
  move(delta: number): void;
  pinHead(h: HeadRef | null): void;
  fetchPatterns(heads: HeadRef[]): void;
  pinNeuron(j: number | null): void;
  fetchPromotes(layer: number, neurons: number[]): Promise<void>;
  /** Esc: drop pins first, then the selection. */
  escape(): void;
}

// ---- view settings slice ---------------------------------------------------------------------

export interface ViewSlice {
  /** Flow graph: hide edges below this fraction of the strongest. */
  flowThreshold: number;
  ablateK: number;
  ablateSource: AblateSource;
  setView(patch: Partial<Pick<ViewSlice, 'flowThreshold' | 'ablateK' | 'ablateSource'>>): void;
}

export type AppState = ModelSlice & RunSlice & SelectionSlice & ViewSlice & ShareSlice;
type Slice<T> = StateCreator<AppState, [], [], T>;

function failure(err: unknown): Failure {
  if (err instanceof EngineError) return { kind: err.kind, message: err.message, file: err.file };
  return { kind: 'internal', message: err instanceof Error ? err.message : String(err) };
}

const rows = (files: ModelFile[]): FileRow[] => files.map((f) => ({ path: f.path, size: f.blob.size }));

const modelSlice =
  (engine: () => Engine, recovery: { files: ModelFile[] | null }): Slice<ModelSlice> =>
  (set, get) => ({
    model: null,
    modelFiles: [],
    vocab: [],
    load: null,
    notice: null,
    async loadModel(files, label) {
      set({ load: { label, files: rows(files), status: 'loading' }, notice: null });
      try {
        const info = await engine().load(files);
        const V = info.description.vocab_size;
        const texts = await engine().vocab();
        const table = Array.from({ length: V }, (_, id) => texts[id] ?? '');
        recovery.files = files;
        const shared = get().shared;
        if (shared) {
          // A shared run stays on screen, read-only, whichever model is loaded under it.
          set({ model: info, modelFiles: rows(files), load: null, shared: { ...shared, modelVocab: table }, tokens: [], tokensFor: '' });
          void get().tokenize(get().prompt);
          return true;
        }
        set({
          model: info,
          modelFiles: rows(files),
          vocab: table,
          load: null,
          result: null,
          resultState: null,
          override: null,
          runError: null,
          ablation: null,
          selected: null,
          pinnedHead: null,
          patterns: noPatterns(),
          pinnedNeuron: null,
          promotes: {},
          tokens: [],
          tokensFor: '',
          settings: { ...get().settings, layer: null },
        });
        void get().tokenize(get().prompt);
        return true;
      } catch (err) {
        set({ load: { label, files: rows(files), status: 'failed', error: failure(err) } });
        return false;
      }
    },
    dismissLoad: () => set({ load: null }),
  });

const runSlice =
  (engine: () => Engine, recovery: { files: ModelFile[] | null }): Slice<RunSlice> =>
  (set, get) => {
    let handle: RunHandle | null = null;
    let tokenizeSeq = 0;

    /** After the watchdog restarted the worker, the model is gone: load the same files again. */
    const recover = async (f: Failure) => {
      if (f.kind !== 'unresponsive' || !recovery.files) return;
      const files = recovery.files;
      const keep = { result: get().result, resultState: get().resultState, override: get().override, selected: get().selected };
      set({ notice: 'The engine stopped answering and was restarted; reloading the model.' });
      if (await get().loadModel(files, 'reload after restart')) {
        set({ ...keep, notice: 'The engine was restarted and the model reloaded; results were kept.' });
      }
    };

    const start = (kind: Running['kind'], prompt: string, settings: RunSettings, onDone: (r: DepassResult, partial: boolean) => void) => {
      if (handle) handle.cancel();
      const h = engine().run(
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
      set({ running: { kind, progress: null, modesDone: [], startedAt: Date.now() }, runError: null });
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
      settings: { modes: ['token', 'head'], rule: 'softmax', layer: null, layerDetail: true },
      running: null,
      result: null,
      resultState: null,
      override: null,
      runError: null,
      ablation: null,
      completedRuns: 0,
      setPrompt: (text) => set({ prompt: text }),
      async tokenize(text) {
        if (!get().model) return;
        const seq = ++tokenizeSeq;
        try {
          const { tokens } = await engine().tokenize(text);
          if (seq === tokenizeSeq) set({ tokens, tokensFor: text, tokenizeError: null });
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
        if (readOnly(get())) return set({ runError: { kind: 'input', message: 'This is a shared run, read-only: re-run it live or close it to run your own prompt.' } });
        if (!model) return set({ runError: { kind: 'input', message: 'Load a model first.' } });
        if (settings.modes.length === 0) return set({ runError: { kind: 'input', message: 'Choose at least one mode.' } });
        if (prompt.length === 0) return set({ runError: { kind: 'input', message: 'Type a prompt first.' } });
        start('run', prompt, runSettings(), (r, partial) => {
          if (readOnly(get())) return;
          const keepSel = get().result?.prompt === r.prompt;
          set({
            result: r,
            resultState: partial ? 'partial' : 'complete',
            override: null,
            ablation: null,
            ...(keepSel ? {} : { selected: null, pinnedHead: null, patterns: noPatterns(), pinnedNeuron: null }),
          });
        });
      },
      cancel() {
        handle?.cancel();
      },
      setTarget(target, contrast) {
        const { result, selected, running } = get();
        const position = shownPosition(result, selected);
        // One run at a time: a target change would otherwise cancel the run in progress.
        if (!result || position === null || running) return;
        if (readOnly(get())) return set({ runError: { kind: 'input', message: 'This is a shared run, read-only: re-run it live to explain another token.' } });
        const predicted = result.predictions[position].top[0]?.id;
        if ((target === null || target === predicted) && contrast === null) {
          set({ override: null, ablation: null });
          return;
        }
        const id = target ?? predicted;
        start('target', result.prompt, { ...runSettings(), positions: [position], target: id, contrast: contrast ?? undefined }, (r) => {
          if (get().result?.prompt !== r.prompt || readOnly(get())) return;
          set({ override: { position, target: id, contrast, result: r }, ablation: null });
        });
      },
      async ablate(source, k) {
        const { result, override, selected } = get();
        const f = focusOf(result, override, selected);
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
          const r = await engine().ablate(f.result.prompt, plan.spec, [
            { position: f.position, id: f.target.id, contrast_id: f.target.contrast_id },
          ]);
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

const selectionSlice =
  (engine: () => Engine): Slice<SelectionSlice> =>
  (set, get) => ({
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
        const failed: Record<string, Pattern> = {};
        for (const key of fresh) failed[key] = { status: 'failed', error: 'attention patterns are not part of a shared link; re-run it live to see them' };
        set((s) => ({ patterns: { ...s.patterns, ...failed } }));
        return;
      }
      for (const h of heads) {
        const key = headKey(h);
        const cur = get().patterns[key];
        if (cur && cur.status !== 'failed') continue;
        set((s) => ({ patterns: { ...s.patterns, [key]: { status: 'loading' } } }));
        const epoch = patternEpoch;
        engine()
          .attention(h.layer, h.head)
          .then(
            ({ T, A }) => ({ status: 'done', T, A }) as Pattern,
            (err: unknown) => ({ status: 'failed', error: failure(err).message }) as Pattern,
          )
          .then((p) => {
            // Patterns cleared meanwhile (new prompt or model): this answer may be stale.
            if (epoch !== patternEpoch || get().patterns[key]?.status !== 'loading') return;
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
        const got = await engine().promotes(layer, need, 5);
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

const viewSlice: Slice<ViewSlice> = (set) => ({
  flowThreshold: 0.1,
  ablateK: 3,
  ablateSource: 'head',
  setView: (patch) => set(patch),
});

export function createAppStore(engine: () => Engine, shelf: () => ModelShelf = browserShelf) {
  const recovery: { files: ModelFile[] | null } = { files: null };
  return create<AppState>()((...a) => ({
    ...modelSlice(engine, recovery)(...a),
    ...runSlice(engine, recovery)(...a),
    ...selectionSlice(engine)(...a),
    ...viewSlice(...a),
    ...shareSlice(recovery, shelf)(...a),
  }));
}

export type AppStore = ReturnType<typeof createAppStore>;
