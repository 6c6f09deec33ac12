// Parameter count and byte size of a model's weights (tied tensors counted once), from their
// shapes alone: stored weights need not be read.

import { bytesPerElement, elementCount, type ModelWeights, type Weight } from './description';

export function weightTensors(w: ModelWeights<Weight>): Weight[] {
  const seen = new Set<Weight>();
  const add = (t?: Weight) => t && seen.add(t);
  [w.embed_tokens, w.embed_positions, w.lm_head, w.norm.weight, w.norm.bias].forEach(add);
  for (const l of w.layers) for (const part of Object.values(l)) if (part) [part.weight, part.bias].forEach(add);
  return [...seen];
}

export function weightStats(w: ModelWeights<Weight>): { parameters: number; bytes: number } {
  let parameters = 0;
  let bytes = 0;
  for (const t of weightTensors(w)) {
    const n = elementCount(t);
    parameters += n;
    bytes += n * bytesPerElement(t.dtype);
  }
  return { parameters, bytes };
}
