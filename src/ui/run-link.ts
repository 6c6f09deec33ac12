// A run as a link's fragment, from what the app shows now: what Share copies and what a report
// holds. Not the codec (share/permalink) and not the dialogs.

import type { DepassResult } from '../depass/result';
import { encodeRun } from '../share/permalink/encode';
import { snapshotRun, withoutLayerDetail } from '../share/snapshot';
import { generatedPositions, generationOf, numLayers, specialOf } from '../state/selectors';
import type { AppState } from '../state/types';

/** The address of the page without its fragment, to which a run's fragment is appended. */
export const pageAddress = () => `${location.origin}${location.pathname}${location.search}`;

/** The link's fragment for what is on screen now (with or without the per-layer detail). */
export function fragmentOf(s: AppState, detail: boolean): string | null {
  if (!s.result) return null;
  const strip = (r: DepassResult) => (detail ? r : withoutLayerDetail(r));
  const run = snapshotRun({
    result: strip(s.result),
    overrides: s.overrides.map((o) => ({ ...o, result: strip(o.result) })),
    settings: { ...s.settings, layerDetail: detail && s.settings.layerDetail },
    selected: s.selected,
    pinnedHead: s.pinnedHead,
    pinnedNeuron: s.pinnedNeuron,
    flowThreshold: s.flowThreshold,
    vocab: s.vocab,
    layers: numLayers(s),
    vocabSize: s.shared?.run.shape?.vocab_size ?? s.model?.description.vocab_size ?? s.vocab.length,
    // Where the model can be downloaded, when the run's model is a Hub model's copy.
    source: s.shared ? s.shared.run.source : s.model?.fingerprint === s.result.model.fingerprint ? s.modelSource : null,
    words: s.words,
    hideSpecial: s.hideSpecial,
    special: specialOf(s),
    generated: generatedView(s),
  });
  return encodeRun(run);
}

/** Where the run's generated tokens begin, as a link says it (null when none were generated). */
export function generatedView(s: AppState): { first: number; temperature: number; seed: number } | null {
  const g = generationOf(s);
  const first = generatedPositions(s)[0];
  return g && first !== undefined ? { first, temperature: g.temperature, seed: g.seed } : null;
}
