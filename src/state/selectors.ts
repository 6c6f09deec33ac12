// Selectors: what the views read from the store, computed from it. Above all the focus, the
// result and target index behind the selected position (a target re-run covers one position;
// elsewhere the main run applies). Pure functions, so views and tests share them; no engine, no DOM.

import type { DepassResult } from '../depass/result';
import { specialMask } from '../depass/words';
import { layerCount } from '../share/snapshot';
import type { AppState, Focus, HeadRef, HubDownload, Override } from './types';

/** The position shown: the selection, else the last token (what a prompt is usually about). */
export function shownPosition(result: DepassResult | null, selected: number | null): number | null {
  if (!result || result.tokens.length === 0) return null;
  const T = result.tokens.length;
  if (selected === null) return T - 1;
  return Math.min(Math.max(selected, 0), T - 1);
}

export function focusOf(result: DepassResult | null, overrides: Override[] | null, selected: number | null): Focus | null {
  const position = shownPosition(result, selected);
  if (result === null || position === null) return null;
  const override = overrides?.find((o) => o.position === position);
  if (override && override.result.prompt === result.prompt) {
    const i = override.result.targets.findIndex((t) => t.position === position);
    if (i >= 0) return { result: override.result, i, position, target: override.result.targets[i], custom: true };
  }
  const i = result.targets.findIndex((t) => t.position === position);
  if (i < 0) return null;
  return { result, i, position, target: result.targets[i], custom: false };
}

/**
 * Σ token scores + rest vs the target logit: the completeness shown in the badge. With `groups`
 * (the positions of each word), Σ over the words of each word's summed score: what the views show
 * when they show words, which must add up just the same.
 */
export function tokenCompleteness(f: Focus, groups?: readonly (readonly number[])[]): { sum: number; logit: number; error: number } | null {
  const t = f.result.token;
  if (!t) return null;
  const row = t.scores[f.i];
  const parts = groups ? groups.map((g) => g.reduce((a, s) => a + (row[s] ?? 0), 0)) : row;
  const sum = parts.reduce((a, b) => a + b, 0) + t.rest[f.i];
  return { sum, logit: f.target.logit, error: Math.abs(sum - f.target.logit) };
}

/** True while a shared run is on screen: nothing may ask the engine about it. */
export const readOnly = (s: Pick<AppState, 'shared'>): boolean => s.shared !== null;

/** Layers the views draw: the shared run's model, else the loaded model. */
export const numLayers = (s: AppState): number => (s.shared ? layerCount(s.shared.run) : (s.model?.description.num_hidden_layers ?? 0));

/** How the loaded and remembered models relate to a shared run. */
export function sharedModelState(s: AppState): 'loaded' | 'remembered' | 'other' | 'none' {
  if (!s.shared) return 'none';
  const fp = s.shared.run.result.model.fingerprint;
  if (s.model?.fingerprint === fp) return 'loaded';
  if (s.shelf.models.some((m) => m.fingerprint === fp)) return 'remembered';
  return s.model ? 'other' : 'none';
}

/** The key of a head in pattern caches. */
export const headKey = (h: HeadRef) => `${h.layer}:${h.head}`;

/** A download from the Hub that has not ended yet. */
export const hubActive = (h: HubDownload | null): boolean => h !== null && h.stage !== 'failed' && h.stage !== 'cancelled';
/**
 * Why the prompt cannot run on the loaded model, checked while the user types: more tokens than
 * the model reads. Null when it fits or is not yet tokenised.
 */
export function promptLengthProblem(s: Pick<AppState, 'model' | 'tokens' | 'tokensFor' | 'prompt'>): string | null {
  const max = s.model?.description.max_position_embeddings;
  if (!max || s.tokensFor !== s.prompt) return null;
  const T = s.tokens.length;
  return T > max ? `The prompt has ${T} tokens; ${s.model!.name} reads at most ${max}. Shorten it to run.` : null;
}

/**
 * What changed since the result on screen was computed: the prompt, the modes, the rule, the
 * layer, the per-layer detail or the model. Empty while it still matches, during a run (which
 * will replace it) and for a shared run (which has no inputs here).
 */
export function staleReasons(s: Pick<AppState, 'result' | 'ranWith' | 'running' | 'shared' | 'prompt' | 'settings' | 'model'>): string[] {
  const w = s.ranWith;
  if (!s.result || !w || s.shared || s.running?.kind === 'run') return [];
  const out: string[] = [];
  if (s.prompt !== w.prompt) out.push('the prompt');
  if (s.model?.fingerprint !== w.fingerprint) out.push('the model');
  if (s.settings.modes.join() !== w.modes.join()) out.push('the modes');
  if (s.settings.rule !== w.rule) out.push('the MLP rule');
  const L = s.model?.description.num_hidden_layers ?? 1;
  const layer = s.settings.modes.some((m) => m === 'neuron' || m === 'module') ? (s.settings.layer ?? L - 1) : null;
  if (layer !== w.layer) out.push('the layer');
  if (s.settings.layerDetail !== w.layerDetail) out.push('the per-layer detail');
  return out;
}

const NONE: number[] = [];

/** Ids and positions that mark special tokens: the link's positions for a shared run, else the loaded tokenizer's ids. */
export const specialIdsOf = (s: Pick<AppState, 'shared' | 'specialIds'>): number[] => (s.shared ? NONE : s.specialIds);
export const specialPositionsOf = (s: Pick<AppState, 'shared'>): number[] => s.shared?.run.view.special ?? NONE;

/** Which tokens of the result on screen are special (BOS, chat markers). */
export function specialOf(s: Pick<AppState, 'shared' | 'specialIds' | 'result'>): boolean[] {
  return specialMask(s.result?.tokens ?? [], specialIdsOf(s), specialPositionsOf(s));
}

/** The generation behind the result on screen (its text is the result's prompt), else null. */
export function generationOf(s: Pick<AppState, 'generation' | 'result'>): AppState['generation'] {
  return s.generation && s.result && s.generation.text === s.result.prompt ? s.generation : null;
}

/** Positions of the result's tokens that the model generated (they start at or after the generated text). */
export function generatedPositions(s: Pick<AppState, 'generation' | 'result'>): number[] {
  const g = generationOf(s);
  if (!g || !s.result) return NONE;
  return s.result.tokens.flatMap((t, p) => (t.start >= g.from && t.end > t.start ? [p] : []));
}
