// The weights of a model expanded to f32 once, for the plain TypeScript reference engine.
// Same structure and names as ModelWeights; only the element type differs.

import type { Linear, ModelDescription, ModelWeights, Norm, Tensor } from '../model/description';
import { tensorToFloat32 } from '../model/dtype';

export interface LinearF32 {
  weight: Float32Array; // [out, in]
  bias?: Float32Array; // [out]
}

export interface NormF32 {
  weight: Float32Array; // [n]
  bias?: Float32Array; // [n]
}

export interface LayerF32 {
  input_layernorm?: NormF32;
  q_proj: LinearF32;
  k_proj: LinearF32;
  v_proj: LinearF32;
  o_proj: LinearF32;
  q_norm?: NormF32;
  k_norm?: NormF32;
  attn_output_norm?: NormF32;
  post_attention_layernorm?: NormF32;
  mlp_output_norm?: NormF32;
  gate_proj?: LinearF32;
  up_proj: LinearF32;
  down_proj: LinearF32;
}

export interface ReferenceModel {
  description: ModelDescription;
  embed_tokens: Float32Array; // [V, D]
  embed_positions?: Float32Array; // [P, D]
  layers: LayerF32[];
  norm: NormF32; // [D]
  lm_head: Float32Array; // [V, D]
}

export function toReferenceModel(description: ModelDescription, w: ModelWeights): ReferenceModel {
  const f = (t: Tensor) => tensorToFloat32(t);
  const lin = (l: Linear): LinearF32 => ({ weight: f(l.weight), bias: l.bias && f(l.bias) });
  const norm = (n: Norm): NormF32 => ({ weight: f(n.weight), bias: n.bias && f(n.bias) });
  const embed_tokens = f(w.embed_tokens);
  return {
    description,
    embed_tokens,
    embed_positions: w.embed_positions && f(w.embed_positions),
    layers: w.layers.map((l) => ({
      input_layernorm: l.input_layernorm && norm(l.input_layernorm),
      q_proj: lin(l.q_proj),
      k_proj: lin(l.k_proj),
      v_proj: lin(l.v_proj),
      o_proj: lin(l.o_proj),
      q_norm: l.q_norm && norm(l.q_norm),
      k_norm: l.k_norm && norm(l.k_norm),
      attn_output_norm: l.attn_output_norm && norm(l.attn_output_norm),
      post_attention_layernorm: l.post_attention_layernorm && norm(l.post_attention_layernorm),
      mlp_output_norm: l.mlp_output_norm && norm(l.mlp_output_norm),
      gate_proj: l.gate_proj && lin(l.gate_proj),
      up_proj: lin(l.up_proj),
      down_proj: lin(l.down_proj),
    })),
    norm: norm(w.norm),
    lm_head: w.lm_head === w.embed_tokens ? embed_tokens : f(w.lm_head),
  };
}
