// Rankings of components for "ablate the top k": which heads, neurons or tokens the current
// focus credits most, and the ablation spec that removes them. Pure; the store calls the engine.

import type { AblationSpec } from '../worker/protocol';
import type { AblateSource, Focus, RankedComponent } from './types';

export interface AblationPlan {
  source: AblateSource;
  removed: RankedComponent[];
  spec: AblationSpec;
  /** Change of the target logit if the scores were exact removal effects: -Σ removed scores. */
  predicted: number;
}

/** Sources available for ablation in this focus (modes that were run). */
export function ablateSources(f: Focus | null): AblateSource[] {
  if (!f) return [];
  const out: AblateSource[] = [];
  if (f.result.head) out.push('head');
  if (f.result.neuron) out.push('neuron');
  if (f.result.token) out.push('token');
  return out;
}

/**
 * The k components with the highest (most positive) scores: removing what pushed the target up
 * should lower its logit by about their sum. Tokens exclude the target's own position, which the
 * engine cannot remove.
 */
export function planAblation(f: Focus, source: AblateSource, k: number, tokenText: (position: number) => string): AblationPlan | null {
  type Item = RankedComponent & { pick: () => void };
  const spec: AblationSpec = {};
  const items: Item[] = [];
  if (source === 'head' && f.result.head) {
    const h = f.result.head;
    h.scores[f.i].forEach((row, n) =>
      row.forEach((score, head) => {
        const layer = h.layers[n];
        items.push({ label: `L${layer}H${head}`, score, pick: () => (spec.heads ??= []).push({ layer, head }) });
      }),
    );
  } else if (source === 'neuron' && f.result.neuron) {
    const { layer, scores } = f.result.neuron;
    scores[f.i].forEach((score, neuron) => items.push({ label: `L${layer}N${neuron}`, score, pick: () => (spec.neurons ??= []).push({ layer, neuron }) }));
  } else if (source === 'token' && f.result.token) {
    f.result.token.scores[f.i].forEach((score, s) => {
      if (s >= f.position) return;
      items.push({ label: `${s}:${tokenText(s)}`, score, pick: () => (spec.tokens ??= []).push(s) });
    });
  } else {
    return null;
  }
  const top = items
    .filter((c) => Number.isFinite(c.score))
    .sort((a, b) => b.score - a.score)
    .slice(0, Math.max(0, k));
  if (top.length === 0) return null;
  top.forEach((c) => c.pick());
  return {
    source,
    removed: top.map(({ label, score }) => ({ label, score })),
    spec,
    predicted: -top.reduce((a, c) => a + c.score, 0),
  };
}
