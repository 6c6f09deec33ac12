// The link Share copies: the run on screen (run-link.ts) and, while a comparison is shown, the
// compared run after it (share/compare-link.ts), with its own target so a live re-run can redo it.

import { joinLink } from '../share/compare-link';
import { encodeRun } from '../share/permalink/encode';
import { snapshotRun, withoutLayerDetail } from '../share/snapshot';
import { compareRuns } from '../state/compare';
import { numLayers } from '../state/selectors';
import type { AppState } from '../state/types';
import type { DepassResult } from '../depass/result';
import { fragmentOf } from './run-link';

/** The second run's fragment, or null when no comparison is on screen. */
function secondFragment(s: AppState, detail: boolean): string | null {
  const b = s.second;
  if (!b || !s.result || !compareRuns(s.result, s.overrides, s.selected, b.result, b.overrides)) return null;
  const strip = (r: DepassResult) => (detail ? r : withoutLayerDetail(r));
  const run = snapshotRun({
    result: strip(b.result),
    overrides: b.overrides.map((o) => ({ ...o, result: strip(o.result) })),
    settings: { ...s.settings, layerDetail: detail && s.settings.layerDetail },
    // The second run's position follows the first's through the alignment.
    selected: null,
    pinnedHead: null,
    pinnedNeuron: null,
    flowThreshold: s.flowThreshold,
    vocab: s.vocab,
    layers: numLayers(s),
    vocabSize: s.shared?.run.shape?.vocab_size ?? s.model?.description.vocab_size ?? s.vocab.length,
    source: s.shared ? s.shared.run.source : s.model?.fingerprint === b.result.model.fingerprint ? s.modelSource : null,
  });
  if (b.target !== null) run.settings.target = b.target;
  if (b.contrast !== null) run.settings.contrast = b.contrast;
  return encodeRun(run);
}

/** The fragment of what is on screen: one run, or a comparison of two. */
export function shareFragmentOf(s: AppState, detail: boolean): string | null {
  const first = fragmentOf(s, detail);
  if (first === null) return null;
  const second = secondFragment(s, detail);
  return second === null ? first : joinLink(first, second);
}
