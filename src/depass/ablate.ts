// The ablation check: the real logit change when heads, neurons or whole prompt tokens are
// removed, to set beside the change DePass predicts. Backend-independent: it runs forward passes.

import type { AttributionBackend, TargetSpec } from './backend';
import type { Ablation } from './record';
import type { TopEntry } from './result';
import { RunInputError } from './run';

export interface AblationSpec extends Ablation {
  /** Token positions removed from the prompt before the forward pass. */
  tokens?: number[];
}

export interface AblationOutcome {
  /** Target logits with the ablation, and without it. */
  logits: number[];
  baseline: number[];
  /** The top predictions at each target's position with the ablation. */
  top: TopEntry[][];
}

/**
 * Target logits of `ids` with and without the ablation. Removing tokens shifts later positions
 * left; targets follow their token. The clean forward record is left in place afterwards, so
 * later requests (attention patterns, attributions) still read the prompt's own pass.
 */
export async function ablate(backend: AttributionBackend, ids: number[], targets: TargetSpec[], spec: AblationSpec): Promise<AblationOutcome> {
  const removed = new Set(spec.tokens ?? []);
  for (const tg of targets) {
    if (removed.has(tg.position)) throw new RunInputError(`position ${tg.position} is the target and cannot be removed`);
  }
  const keptIds = ids.filter((_, t) => !removed.has(t));
  if (keptIds.length === 0) throw new RunInputError('every token was removed');
  const shift = (p: number) => p - [...removed].filter((r) => r < p).length;
  const shifted = targets.map((tg) => ({ ...tg, position: shift(tg.position) }));

  const base = await backend.forward(ids);
  const baseline = await base.targetLogits(targets);
  const ablated = await backend.forward(keptIds, { ablation: { heads: spec.heads, neurons: spec.neurons } });
  const logits = await ablated.targetLogits(shifted);
  const top = shifted.map((tg) => ablated.top[tg.position]!);
  await backend.forward(ids);
  return { logits, baseline, top };
}
