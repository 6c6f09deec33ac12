// What a permalink carries, gathered from the app's state, and the state a decoded link puts
// back. Pure functions over plain data: no store, no DOM, no engine. The codec (permalink/)
// decides how it is written; this decides what is in it.

import type { DepassResult, Mode, Rule } from '../depass/result';
import type { SharedOverride, SharedRun, ViewState } from './permalink/format';
import type { ModelSource } from './remembered';

/** The parts of the app's state a link is made from. */
export interface ShareSource {
  result: DepassResult;
  /** Target re-runs (another token or a contrast), at most one per position. */
  overrides: SharedOverride[];
  settings: { modes: Mode[]; rule: Rule; layer: number | null; layerDetail: boolean };
  selected: number | null;
  pinnedHead: { layer: number; head: number } | null;
  pinnedNeuron: number | null;
  flowThreshold: number;
  /** Id -> display text of the vocabulary the run was made with. */
  vocab: string[];
  /** Layers and vocabulary size of the model the run was made with. */
  layers: number;
  vocabSize: number;
  /** Where the run's model came from, when it came from the Hub. */
  source?: ModelSource | null;
  /** Sources shown as words; special tokens hidden. */
  words?: boolean;
  hideSpecial?: boolean;
  /** Which of the run's tokens are special (specialMask). */
  special?: readonly boolean[];
  /** The run's text was continued by the model from position `first` on. */
  generated?: ViewState['generated'] | null;
}

/** The run without the per-layer read-out and the logit lens (a shorter link). */
export function withoutLayerDetail(r: DepassResult): DepassResult {
  const { logit_lens: _lens, ...rest } = r;
  return { ...rest, token: r.token && { scores: r.token.scores, rest: r.token.rest } };
}

/** The views that have something to show for this result, by the names links use. */
export function openViews(r: DepassResult): string[] {
  const out = ['prediction'];
  if (r.token) out.push('tokens');
  if (r.head) out.push('heads');
  if (r.token && r.head) out.push('flow');
  if (r.token?.by_layer) out.push('layers');
  if (r.neuron) out.push('neurons');
  if (r.module) out.push('modules');
  if (r.logit_lens) out.push('lens');
  return out;
}

/** Every token id the run names outside the prompt: predictions, targets, contrasts, logit lens. */
export function namedIds(r: DepassResult, overrides: SharedOverride[]): number[] {
  const ids = new Set<number>();
  for (const p of r.predictions) for (const e of p.top) ids.add(e.id);
  for (const t of [...r.targets, ...overrides.flatMap((o) => o.result.targets)]) {
    ids.add(t.id);
    if (t.contrast_id !== null) ids.add(t.contrast_id);
  }
  for (const layers of r.logit_lens ?? []) for (const entries of layers) for (const e of entries) ids.add(e.id);
  return [...ids].sort((a, b) => a - b);
}

export function snapshotRun(s: ShareSource): SharedRun {
  const r = s.result;
  const overrides: SharedOverride[] = s.overrides
    .filter((o) => o.result.prompt === r.prompt)
    .map((o) => ({ position: o.position, target: o.target, contrast: o.contrast, result: o.result }));
  const needsLayer = s.settings.modes.some((m) => m === 'neuron' || m === 'module');
  const view: ViewState = {
    selected: s.selected === null ? null : Math.min(Math.max(0, s.selected), r.tokens.length - 1),
    views: openViews(r),
    threshold: Math.min(1, Math.max(0, s.flowThreshold)),
    head: s.pinnedHead,
    layer: r.neuron?.layer ?? r.module?.layer ?? (needsLayer ? (s.settings.layer ?? s.layers - 1) : null),
    neuron: s.pinnedNeuron,
  };
  // Written only when set, so that a link without them is the same as before they existed.
  if (s.words) view.words = true;
  if (s.hideSpecial) view.hideSpecial = true;
  // Special tokens the link cannot tell by their empty span: the tokenizer's own word for them.
  const special = r.tokens.flatMap((t, p) => (t.start !== t.end && s.special?.[p] === true ? [p] : []));
  if (special.length > 0) view.special = special;
  if (s.generated) view.generated = s.generated;
  const run: SharedRun = {
    result: r,
    settings: {
      modes: s.settings.modes,
      rule: s.settings.rule,
      ...(view.layer !== null && needsLayer ? { layer: view.layer } : {}),
      layerDetail: s.settings.layerDetail,
    },
    view,
    shape: { layers: s.layers, vocab_size: s.vocabSize },
    vocab: namedIds(r, overrides)
      .filter((id) => id < s.vocab.length && s.vocab[id] !== undefined)
      .map((id) => [id, s.vocab[id]] as [number, string]),
  };
  if (overrides.length > 0) run.override = overrides[0];
  if (overrides.length > 1) run.more = overrides.slice(1);
  if (s.source) run.source = { hub: s.source.hub, revision: s.source.revision };
  return run;
}

/** Longest vocabulary table built from a link (ids above it show as "#id" in the views). */
const MAX_TABLE = 1 << 20;

/**
 * A vocabulary table for the views from the texts a link carries: as long as the largest id it
 * names (capped), empty where the link says nothing, which no view shows since every id a view
 * names is in the link.
 */
export function vocabTable(run: SharedRun): string[] {
  let n = 0;
  for (const [id] of run.vocab ?? []) n = Math.max(n, id + 1);
  for (const t of run.result.tokens) n = Math.max(n, t.id + 1);
  const table = new Array<string>(Math.min(n, MAX_TABLE)).fill('');
  const put = (id: number, text: string) => {
    if (id < table.length) table[id] = text;
  };
  for (const t of run.result.tokens) put(t.id, t.text);
  for (const [id, text] of run.vocab ?? []) put(id, text);
  return table;
}

/** Every target re-run a link carries, first and further ones. */
export function sharedOverrides(run: SharedRun): SharedOverride[] {
  return run.override ? [run.override, ...(run.more ?? [])] : [];
}

/** Number of layers the views should draw: the link's own statement, else what its sections imply. */
export function layerCount(run: SharedRun): number {
  if (run.shape) return run.shape.layers;
  const r = run.result;
  return Math.max(r.token?.by_layer?.[0]?.length ?? 0, r.logit_lens?.[0]?.length ?? 0, r.head ? Math.max(...r.head.layers) + 1 : 0, 1);
}

/** "sha256:0123abcd…" -> "0123abcd": enough to tell models apart at a glance. */
export function shortFingerprint(fp: string): string {
  const hex = fp.includes(':') ? fp.slice(fp.indexOf(':') + 1) : fp;
  return hex.slice(0, 8);
}
