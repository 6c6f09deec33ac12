// The normal forward pass of a decoder-only transformer (Llama, Mistral, Qwen2, Qwen3, GPT-2) in
// plain TypeScript, recording per layer what the decomposed pass keeps frozen: the norm scales,
// the attention probabilities A and the MLP activations a. Family differences are branches on
// the typed description (normKind, mlpKind, positionKind, hasQkNorm), never on names.

import { activation, attentionMix, attentionProbs, headRmsNorm, layerNormStats, matmul, rmsScale, rope } from './ops';
import type { NormF32, ReferenceModel } from './reference-model';

/** A frozen normalisation: x = gamma * (h - mean) * scale (+ beta); mean only for LayerNorm. */
export interface NormRecord {
  scale: Float32Array; // [T] 1/rms(h) or 1/std(h) of the real hidden state
  mean?: Float32Array; // [T] LayerNorm only
}

/** What one layer's forward pass leaves behind for the decomposed pass. */
export interface LayerRecord {
  h_in: Float32Array; // [T, D] residual entering the layer
  attn_norm: NormRecord;
  v: Float32Array; // [T, Hkv*dh] values of the real state, biases included
  A: Float32Array; // [H, T, T] attention probabilities (after RoPE, mask, softmax)
  attn_out: Float32Array; // [T, D] attention's write to the residual, biases included
  mlp_norm: NormRecord;
  act: Float32Array; // [T, I] a = act(gate) * up, or act(fc)
  mlp_out: Float32Array; // [T, D] the MLP's write, bias included
}

export interface ForwardRecord {
  T: number;
  ids: number[];
  layers: LayerRecord[];
  h_final: Float32Array; // [T, D] residual after the last layer
  final_norm: NormRecord;
  logits: Float32Array; // [T, V]
}

/** Heads or neurons whose write is zeroed (for ablation checks). */
export interface Ablation {
  heads?: { layer: number; head: number }[];
  neurons?: { layer: number; neuron: number }[];
}

export function normStats(h: Float32Array, T: number, D: number, kind: 'rms' | 'layer', eps: number): NormRecord {
  if (kind === 'rms') return { scale: rmsScale(h, T, D, eps) };
  const { mean, s } = layerNormStats(h, T, D, eps);
  return { scale: s, mean };
}

/** Apply a recorded normalisation to the real state h [T, D] (the normal, non-decomposed form). */
export function applyNorm(h: Float32Array, T: number, D: number, rec: NormRecord, norm: NormF32): Float32Array {
  const x = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    const mu = rec.mean ? rec.mean[t] : 0;
    for (let d = 0; d < D; d++) {
      let v = norm.weight[d] * (h[t * D + d] - mu) * rec.scale[t];
      if (norm.bias) v += norm.bias[d];
      x[t * D + d] = v;
    }
  }
  return x;
}

/** Token (+ learned position) embeddings of the prompt: h0 [T, D]. */
export function embed(model: ReferenceModel, ids: number[]): Float32Array {
  const D = model.description.hidden_size;
  const h = new Float32Array(ids.length * D);
  ids.forEach((id, t) => {
    h.set(model.embed_tokens.subarray(id * D, (id + 1) * D), t * D);
    if (model.embed_positions) for (let d = 0; d < D; d++) h[t * D + d] += model.embed_positions[t * D + d];
  });
  return h;
}

export function forward(model: ReferenceModel, ids: number[], ablation: Ablation = {}): ForwardRecord {
  const cfg = model.description;
  const T = ids.length;
  const D = cfg.hidden_size;
  const H = cfg.num_attention_heads;
  const Hkv = cfg.num_key_value_heads;
  const dh = cfg.head_dim;
  const I = cfg.intermediate_size;
  const V = cfg.vocab_size;
  const act = activation(cfg.hidden_act);

  let h = embed(model, ids); // [T, D]
  const layers: LayerRecord[] = [];

  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const w = model.layers[l];
    const h_in = h;

    // Attention.
    const attn_norm = normStats(h, T, D, cfg.normKind, cfg.norm_eps);
    const x = applyNorm(h, T, D, attn_norm, w.input_layernorm); // [T, D]
    const q = matmul(x, w.q_proj.weight, T, D, H * dh, { bias: w.q_proj.bias }); // [T, H, dh]
    const k = matmul(x, w.k_proj.weight, T, D, Hkv * dh, { bias: w.k_proj.bias }); // [T, Hkv, dh]
    const v = matmul(x, w.v_proj.weight, T, D, Hkv * dh, { bias: w.v_proj.bias }); // [T, Hkv, dh]
    if (cfg.hasQkNorm) {
      headRmsNorm(q, T, H, dh, w.q_norm!.weight, cfg.norm_eps);
      headRmsNorm(k, T, Hkv, dh, w.k_norm!.weight, cfg.norm_eps);
    }
    if (cfg.positionKind === 'rope') {
      rope(q, T, H, dh, cfg.rope_theta);
      rope(k, T, Hkv, dh, cfg.rope_theta);
    }
    const A = attentionProbs(q, k, T, H, Hkv, dh); // [H, T, T]
    const y = attentionMix(A, v, 1, T, H, Hkv, dh, new Int32Array(1)); // [T, H, dh]
    for (const a of ablation.heads ?? []) {
      if (a.layer !== l) continue;
      for (let t = 0; t < T; t++) y.fill(0, (t * H + a.head) * dh, (t * H + a.head + 1) * dh);
    }
    const attn_out = matmul(y, w.o_proj.weight, T, H * dh, D, { bias: w.o_proj.bias }); // [T, D]
    h = add(h, attn_out);

    // MLP.
    const mlp_norm = normStats(h, T, D, cfg.normKind, cfg.norm_eps);
    const x2 = applyNorm(h, T, D, mlp_norm, w.post_attention_layernorm);
    const a = new Float32Array(T * I); // [T, I]
    if (cfg.mlpKind === 'gated') {
      const gate = matmul(x2, w.gate_proj!.weight, T, D, I, { bias: w.gate_proj!.bias });
      const up = matmul(x2, w.up_proj.weight, T, D, I, { bias: w.up_proj.bias });
      for (let i = 0; i < T * I; i++) a[i] = act(gate[i]) * up[i];
    } else {
      const fc = matmul(x2, w.up_proj.weight, T, D, I, { bias: w.up_proj.bias });
      for (let i = 0; i < T * I; i++) a[i] = act(fc[i]);
    }
    for (const n of ablation.neurons ?? []) {
      if (n.layer !== l) continue;
      for (let t = 0; t < T; t++) a[t * I + n.neuron] = 0;
    }
    const mlp_out = matmul(a, w.down_proj.weight, T, I, D, { bias: w.down_proj.bias }); // [T, D]
    h = add(h, mlp_out);

    layers.push({ h_in, attn_norm, v, A, attn_out, mlp_norm, act: a, mlp_out });
  }

  const final_norm = normStats(h, T, D, cfg.normKind, cfg.norm_eps);
  const xF = applyNorm(h, T, D, final_norm, model.norm);
  const logits = matmul(xF, model.lm_head, T, D, V); // [T, V]
  return { T, ids, layers, h_final: h, final_norm, logits };
}

/** Logits of the residual after each layer read through the final norm (logit lens): [T, V]. */
export function lensLogits(model: ReferenceModel, h: Float32Array, T: number): Float32Array {
  const cfg = model.description;
  const D = cfg.hidden_size;
  const rec = normStats(h, T, D, cfg.normKind, cfg.norm_eps);
  const x = applyNorm(h, T, D, rec, model.norm);
  return matmul(x, model.lm_head, T, D, cfg.vocab_size);
}

function add(a: Float32Array, b: Float32Array): Float32Array {
  const c = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) c[i] = a[i] + b[i];
  return c;
}

