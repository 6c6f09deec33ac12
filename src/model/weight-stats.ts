// Parameter count and byte size of a model's weights (tied tensors counted once).

import type { ModelWeights, Tensor } from './description';
import { bytesPerElement } from './description';

export function weightTensors(w: ModelWeights): Tensor[] {
  const seen = new Set<Tensor>();
  const add = (t?: Tensor) => t && seen.add(t);
  [w.embed_tokens, w.embed_positions, w.lm_head, w.norm.weight, w.norm.bias].forEach(add);
  for (const l of w.layers) {
    for (const n of [l.input_layernorm, l.post_attention_layernorm, l.q_norm, l.k_norm]) [n?.weight, n?.bias].forEach(add);
    for (const x of [l.q_proj, l.k_proj, l.v_proj, l.o_proj, l.gate_proj, l.up_proj, l.down_proj]) [x?.weight, x?.bias].forEach(add);
  }
  return [...seen];
}

export function weightStats(w: ModelWeights): { parameters: number; bytes: number } {
  let parameters = 0;
  let bytes = 0;
  for (const t of weightTensors(w)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    parameters += n;
    bytes += n * bytesPerElement(t.dtype);
  }
  return { parameters, bytes };
}
