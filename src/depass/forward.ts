// The normal forward pass of a decoder-only transformer in plain TypeScript (the reference engine),
// recording per layer what the decomposed pass keeps frozen: the norm scales, the attention
// probabilities A and the MLP activations a. It runs the kernels' TypeScript twins (ops.ts), so
// the reference computes what the GPU computes. Family differences are branches on the typed
// description (normKind, mlpKind, positionKind, hasQkNorm), never on names.

import { dims } from '../model/description';
import { gemm } from './gemm';
import { activation, attentionMix, attentionProbs, headRmsNorm, layerNormStats, normApply, rmsScale, rope } from './ops';
import type { Ablation, ForwardRecord, LayerRecord, NormRecord } from './record';
import type { LinearF32, NormF32, ReferenceModel } from './reference-model';

export interface CpuForwardRecord extends ForwardRecord<Float32Array> {
  logits: Float32Array; // [T, V]
}

/** x [R, K] through a linear layer: x W^T (+ b), [R, out]. */
export function linear(x: Float32Array, w: LinearF32, R: number, K: number): Float32Array {
  const N = w.weight.length / K;
  const y = new Float32Array(R * N);
  gemm(x, w.weight, y, { R, N, K, bias: w.bias });
  return y;
}

export function normStats(h: Float32Array, T: number, D: number, kind: 'rms' | 'layer', eps: number): NormRecord<Float32Array> {
  if (kind === 'rms') return { scale: rmsScale(h, T, D, eps) };
  const { mean, s } = layerNormStats(h, T, D, eps);
  return { scale: s, mean };
}

/**
 * A recorded normalisation applied to the real state h [T, D] (beta included when the norm has
 * one). LayerNorm centres each row by its own mean, which is the recorded mean.
 */
export function applyNorm(h: Float32Array, T: number, D: number, rec: NormRecord<Float32Array>, norm: NormF32): Float32Array {
  return normApply(h, T, D, T, rec.scale, norm.weight, { center: rec.mean !== undefined, beta: norm.bias });
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

/** One decoder layer on the real state h_in [T, D], with its record. */
export function forwardLayer(model: ReferenceModel, l: number, h_in: Float32Array, T: number, ablation: Ablation = {}): LayerRecord<Float32Array> {
  const cfg = model.description;
  const { D, H, Hkv, dh, I } = dims(cfg);
  const w = model.layers[l];

  // Attention.
  const attn_norm = normStats(h_in, T, D, cfg.normKind, cfg.norm_eps);
  const x = applyNorm(h_in, T, D, attn_norm, w.input_layernorm); // [T, D]
  const q = linear(x, w.q_proj, T, D); // [T, H, dh]
  const k = linear(x, w.k_proj, T, D); // [T, Hkv, dh]
  const v = linear(x, w.v_proj, T, D); // [T, Hkv, dh]
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
    if (a.layer === l) for (let t = 0; t < T; t++) y.fill(0, (t * H + a.head) * dh, (t * H + a.head + 1) * dh);
  }
  const attn_out = linear(y, w.o_proj, T, H * dh); // [T, D]
  const h_mid = add(h_in, attn_out);

  // MLP.
  const mlp_norm = normStats(h_mid, T, D, cfg.normKind, cfg.norm_eps);
  const x2 = applyNorm(h_mid, T, D, mlp_norm, w.post_attention_layernorm);
  const act = activation(cfg.hidden_act);
  const a = new Float32Array(T * I); // [T, I]
  if (cfg.mlpKind === 'gated') {
    const gate = linear(x2, w.gate_proj!, T, D);
    const up = linear(x2, w.up_proj, T, D);
    for (let i = 0; i < T * I; i++) a[i] = act(gate[i]) * up[i];
  } else {
    const fc = linear(x2, w.up_proj, T, D);
    for (let i = 0; i < T * I; i++) a[i] = act(fc[i]);
  }
  for (const n of ablation.neurons ?? []) {
    if (n.layer === l) for (let t = 0; t < T; t++) a[t * I + n.neuron] = 0;
  }
  const mlp_out = linear(a, w.down_proj, T, I); // [T, D]
  return { h_in, attn_norm, v, A, attn_out, h_mid, mlp_norm, act: a, mlp_out };
}

export function forward(model: ReferenceModel, ids: number[], ablation: Ablation = {}): CpuForwardRecord {
  const cfg = model.description;
  const T = ids.length;
  const { D, L, V } = dims(cfg);
  let h = embed(model, ids); // [T, D]
  const layers: LayerRecord<Float32Array>[] = [];
  for (let l = 0; l < L; l++) {
    const rec = forwardLayer(model, l, h, T, ablation);
    layers.push(rec);
    h = add(rec.h_mid, rec.mlp_out);
  }
  const final_norm = normStats(h, T, D, cfg.normKind, cfg.norm_eps);
  const logits = unembed(model, h, T, final_norm, V);
  return { T, ids, layers, h_final: h, final_norm, logits };
}

/** Logits of a residual h [T, D] read through the final norm (the logit lens when h is not final). */
export function lensLogits(model: ReferenceModel, h: Float32Array, T: number): Float32Array {
  const cfg = model.description;
  return unembed(model, h, T, normStats(h, T, cfg.hidden_size, cfg.normKind, cfg.norm_eps), cfg.vocab_size);
}

function unembed(model: ReferenceModel, h: Float32Array, T: number, norm: NormRecord<Float32Array>, V: number): Float32Array {
  const D = model.description.hidden_size;
  const xF = applyNorm(h, T, D, norm, model.norm);
  const logits = new Float32Array(T * V);
  gemm(xF, model.lm_head, logits, { R: T, N: V, K: D });
  return logits;
}

function add(a: Float32Array, b: Float32Array): Float32Array {
  const c = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) c[i] = a[i] + b[i];
  return c;
}
