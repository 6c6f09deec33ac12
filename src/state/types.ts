// The shape of the app's store: one interface per slice, composed into AppState. Slices live in
// slices/, one per file; they import these types, never each other's code, so there is no cycle.

import type { StateCreator } from 'zustand';
import type { DepassResult, Mode, ResultTarget, Rule, TopEntry } from '../depass/result';
import type { ModelFile } from '../model/files';
import type { TokenSpan } from '../model/tokenizer-types';
import type { SharedRun } from '../share/permalink/format';
import type { HubProgress } from '../hub/fetch-model';
import type { HubAccess } from '../hub/listing';
import type { ModelShelf, ModelSource, RememberedModel, Usage } from '../share/remembered';
import type { Progress } from '../worker/client';
import type { ModelInfo, PromptMemory } from '../worker/protocol';
import type { Engine } from './engine';

// ---- what the views explain ---------------------------------------------------------------

export interface Override {
  position: number;
  target: number;
  contrast: number | null;
  result: DepassResult;
}

export interface Focus {
  result: DepassResult;
  /** Index of the target in `result` (the i of every score array). */
  i: number;
  position: number;
  target: ResultTarget;
  /** True when the target was chosen by the user rather than the model's prediction. */
  custom: boolean;
}

export type AblateSource = 'head' | 'neuron' | 'token';

export interface RankedComponent {
  label: string;
  score: number;
}

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
  /** Ids the loaded tokenizer calls special (BOS, EOS, chat-template markers), ascending. */
  specialIds: number[];
  /** The most recent load: in progress, or failed (the previous model stays loaded). */
  load: { label: string; files: FileRow[]; status: 'loading' | 'failed'; error?: Failure } | null;
  /** A notice about the engine (restart, recovery). */
  notice: string | null;
  /** The Hub repository and commit of the loaded model, when it is a copy of one. */
  modelSource: ModelSource | null;
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

/** What the result on screen was computed from, to tell when the screen no longer matches the inputs. */
export interface RanWith {
  prompt: string;
  modes: Mode[];
  rule: Rule;
  /** Layer of the neuron and module modes (resolved), null when neither ran. */
  layer: number | null;
  layerDetail: boolean;
  fingerprint: string;
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
  /** What a token-mode run of the prompt needs on the GPU (null on the CPU or before tokenizing). */
  promptMemory: PromptMemory | null;
  settings: RunSettingsUI;
  running: Running | null;
  result: DepassResult | null;
  resultState: 'complete' | 'partial' | 'cancelled' | null;
  /** The inputs of the result on screen (null when none, or for a shared run's own). */
  ranWith: RanWith | null;
  /** The last run was cancelled (the result on screen, if any, is an earlier or partial one). */
  runNote: 'cancelled' | null;
  /** Targets the user chose (a token, or a token vs a distractor), at most one per position, by position. */
  overrides: Override[];
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
  /** Explain another token (or a contrast) at the shown position, kept for that position; null, null resets it. */
  setTarget(target: number | null, contrast: number | null): void;
  ablate(source: AblateSource, k: number): Promise<void>;
}

// ---- selection slice -------------------------------------------------------------------------

export interface HeadRef {
  layer: number;
  head: number;
}

/**
 * An attention pattern of the last forward pass, [T, T] (query, key); 'absent' when there is none
 * to have (a shared run carries no patterns), which is information, not a failure.
 */
export type Pattern =
  { status: 'loading' } | { status: 'done'; T: number; A: Float32Array } | { status: 'failed'; error: string } | { status: 'absent'; note: string };

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
  /** Source tokens grouped into words, their scores summed (heatmap, flow graph, layer chart, exports). */
  words: boolean;
  /** Special tokens (BOS, chat markers) left out of the views and rankings, their total shown as one entry. */
  hideSpecial: boolean;
  setView(patch: Partial<Pick<ViewSlice, 'flowThreshold' | 'ablateK' | 'ablateSource' | 'words' | 'hideSpecial'>>): void;
}

// ---- generate slice --------------------------------------------------------------------------

/** A prompt continued by the model before it was explained. */
export interface Generation {
  /** The whole text: the prompt it started from, then the generated tokens' text. */
  text: string;
  /** Where the generated text starts in `text` (UTF-16 offset): the starting prompt's length. */
  from: number;
  /** 0: greedy; above 0: sampled from the top five with `seed`. */
  temperature: number;
  seed: number;
  /** Why generation ended, when it happened here (a link does not say). */
  stopped?: 'count' | 'stop' | 'length';
}

export interface GenerateSettings {
  n: number;
  temperature: number;
  seed: number;
}

export interface GenerateSlice {
  /** The last generation; its tokens are marked while the result on screen is its text. */
  generation: Generation | null;
  generateSettings: GenerateSettings;
  generating: boolean;
  generateError: string | null;
  setGenerateSettings(patch: Partial<GenerateSettings>): void;
  /** Continues the prompt by n tokens, puts the text in the prompt box and runs it. */
  generate(): Promise<void>;
  cancelGenerate(): void;
  /** Shows where the generated token at `position` came from: the prediction at the position before, with that token as its target. */
  explainGenerated(position: number): void;
}

// ---- share slice ---------------------------------------------------------------------------

export interface SharedView {
  run: SharedRun;
  /** Characters of the link it came from. */
  chars: number;
  /** The loaded model's vocabulary, set aside while the link's texts are shown. */
  modelVocab: string[] | null;
}

export interface Shelf {
  /** null until first asked. */
  available: boolean | null;
  models: RememberedModel[];
  usage: Usage | null;
  persisted: boolean | null;
  /** What is being done: saving (with progress), removing, loading. */
  busy: string | null;
  error: string | null;
}

export interface ShareSlice {
  /** A run opened from a link: while set, the views show it read-only. */
  shared: SharedView | null;
  /** Why the last link could not be opened. */
  linkError: string | null;
  /** A link is being decoded. */
  linkOpening: boolean;
  shelf: Shelf;
  /** Opens a decoded link; `second`, when present, is the compared run of a shared comparison. */
  openShared(run: SharedRun, chars: number, second?: SharedRun | null): void;
  setLinkState(state: { opening?: boolean; error?: string | null }): void;
  /** Back to the user's own session (the loaded model, no result). */
  closeShared(): void;
  /** Loads the matching model (remembered, or the link's Hub commit downloaded), checks its fingerprint, then runs the link live. */
  rerunShared(): Promise<void>;
  refreshShelf(): Promise<void>;
  rememberLoaded(): Promise<void>;
  forgetModel(fingerprint: string): Promise<void>;
  loadRemembered(fingerprint: string): Promise<boolean>;
}

// ---- hub slice -------------------------------------------------------------------------------

export interface HubDownload extends Omit<HubProgress, 'stage'> {
  /** What is downloaded, as "owner/name" or "owner/name@rev". */
  label: string;
  stage: HubProgress['stage'] | 'opening' | 'failed' | 'cancelled';
  /** Why it failed, in one line that says what to do. */
  error: string | null;
}

export interface HubSlice {
  /** The download from the Hub in progress, or how the last one ended. */
  hub: HubDownload | null;
  /** The access token for gated and private models: kept in the store's context, never in state. */
  setHubToken(token: string): void;
  /** Lists, downloads (or finds remembered) and loads a model by id; true when it loaded. */
  downloadFromHub(input: string): Promise<boolean>;
  cancelHub(): void;
  dismissHub(): void;
}

// ---- compare slice ---------------------------------------------------------------------------

/** The run compared with the one on screen: an ordinary run of a second prompt (or target). */
export interface SecondRun {
  result: DepassResult;
  /** Target re-runs of the second run, by position (a shared comparison may carry them). */
  overrides: Override[];
  /** The token explained at every position instead of the prediction, and its distractor. */
  target: number | null;
  contrast: number | null;
}

export interface CompareSlice {
  /** The second run of a comparison; null when none is shown. */
  second: SecondRun | null;
  /** The comparison run in progress, or why the last one failed. */
  comparing: { status: 'running' } | { status: 'failed'; error: string } | null;
  /** Comparisons finished so far; lets observers wait for the next one. */
  compared: number;
  /** Runs a second prompt (optionally explaining `target`, or `target` vs `contrast`) with the first run's settings. */
  compareWith(prompt: string, target: number | null, contrast: number | null): Promise<void>;
  /** Back to the single run. */
  closeCompare(): void;
}

export type AppState = ModelSlice & RunSlice & SelectionSlice & ViewSlice & ShareSlice & HubSlice & GenerateSlice & CompareSlice;

/** A slice's creator, with the store's shared context. */
export type Slice<T> = (ctx: StoreContext) => StateCreator<AppState, [], [], T>;

/** What every slice of one store shares (never module-level, so stores stay independent). */
export interface StoreContext {
  engine: () => Engine;
  shelf: () => ModelShelf;
  /** The files of the loaded model, to load again after the engine restarts or to remember. */
  recovery: { files: ModelFile[] | null };
  /** Bumped whenever the pattern cache is emptied, so late answers for the old prompt are dropped. */
  patternEpoch: number;
  /** How to reach the Hugging Face Hub. */
  hub: () => HubAccess;
  /** The Hub access token, in memory only (never in state, so no view or export can see it). */
  hubToken: string;
  /** Stops the download in progress. */
  hubAbort: AbortController | null;
}
