// Measured token effects: what a target's logit (or logit difference) loses when one token's
// embedding is replaced by the mean embedding. The yardstick shared by the probes and stories260K.

import type { ReferenceModel } from '../src/depass/reference-model';
import { type Target, targetValue } from './grad/model';

/** The mean of the token embedding matrix's rows, [D]: what a removed token is replaced by. */
export function meanEmbedding(model: ReferenceModel): Float64Array {
  const { vocab_size: V, hidden_size: D } = model.description;
  const m = new Float64Array(D);
  for (let v = 0; v < V; v++) for (let d = 0; d < D; d++) m[d] += model.embed_tokens[v * D + d] / V;
  return m;
}

/** Embeddings x [T, D] with the rows at `positions` replaced by `mean`. */
export function replaced(x: Float64Array, positions: Iterable<number>, mean: Float64Array): Float64Array {
  const D = mean.length;
  const y = Float64Array.from(x);
  for (const t of positions) y.set(mean, t * D);
  return y;
}

/** Each candidate's measured effect: the drop of the target's value (a logit, or a logit difference
 *  when the target has a contrast) when that token's embedding row of x is replaced by `mean`. */
export function measuredEffects(model: ReferenceModel, x: Float64Array, candidates: number[], target: Target, mean: Float64Array): number[] {
  const f0 = targetValue(model, x, target);
  return candidates.map((t) => f0 - targetValue(model, replaced(x, [t], mean), target));
}
