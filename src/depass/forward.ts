// The normal forward pass of a decoder-only transformer in plain TypeScript (the reference engine),
// recording per layer what the decomposed pass keeps frozen: the norm scales, the attention
// probabilities A and the MLP activations a. It runs the kernels' TypeScript twins (ops.ts), so
// the reference computes what the GPU computes. Family differences are branches on the typed
// description (normKind, mlpKind, positionKind, hasQkNorm), never on names.

import { dims } from '../model/description';
import { gemm } from './gemm';
import { activation, attentionMix, attentionProbs, headRmsNorm, layerNormStats, normApply, rmsScale, rope } from './ops';
import { layerRopeTables, layerWindow } from './rope';
import type { Ablation, ForwardRecord, LayerRecord, NormRecord } from './record';
import type { LinearF32, NormF32, ReferenceModel } from './reference-model';

export interface CpuForwardRecord extends ForwardRecord<Float32Array> {
  logits: Float32Array; // [T, V], before any final soft-cap (what attribution explains)
}

/** A logit as the model reports it: through Gemma 2's final soft-cap when it has one. */
export function cappedLogit(z: number, cap: number | null): number {
  return cap ? cap * Math.tanh(z / cap) : z;
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

/** Token (+ learned position) embeddings of the prompt, times the model's embedding scale: h0 [T, D]. */
export function embed(model: ReferenceModel, ids: number[]): Float32Array {
  const D = model.description.hidden_size;
  const scale = model.description.embedding_scale;
  const h = new Float32Array(ids.length * D);
  ids.forEach((id, t) => {
    h.set(model.embed_tokens.subarray(id * D, (id + 1) * D), t * D);
    if (scale !== 1) for (let d = 0; d < D; d++) h[t * D + d] *= scale;
    if (model.embed_positions) for (let d = 0; d < D; d++) h[t * D + d] += model.embed_positions[t * D + d];
  });
  return h;
}

/** A branch's output through its post-norm (Gemma 2/3, OLMo-2), with the frozen scale recorded. */
function postNorm(
  out: Float32Array,
  T: number,
  D: number,
  model: ReferenceModel,
  norm: NormF32 | undefined,
): { out: Float32Array; rec?: NormRecord<Float32Array> } {
  if (!norm) return { out };
  const rec = normStats(out, T, D, model.description.normKind, model.description.norm_eps);
  return { out: applyNorm(out, T, D, rec, norm), rec };
}

/** One decoder layer on the real state h_in [T, D], with its record; `cosSin` is the layer's RoPE table. */
export function forwardLayer(
  model: ReferenceModel,
  l: number,
  h_in: Float32Array,
  T: number,
  cosSin: Float32Array | null,
  ablation: Ablation = {},
): LayerRecord<Float32Array> {
  const cfg = model.description;
  const { D, H, Hkv, dh, I } = dims(cfg);
  const w = model.layers[l];

  // Attention.
  const attn_norm = normStats(h_in, T, D, cfg.normKind, cfg.norm_eps);
  const x = w.input_layernorm ? applyNorm(h_in, T, D, attn_norm, w.input_layernorm) : h_in; // [T, D]
  const q = linear(x, w.q_proj, T, D); // [T, H, dh]
  const k = linear(x, w.k_proj, T, D); // [T, Hkv, dh]
  const v = linear(x, w.v_proj, T, D); // [T, Hkv, dh]
  if (cfg.qkNorm === 'head') {
    headRmsNorm(q, T, H, dh, w.q_norm!.weight, cfg.norm_eps);
    headRmsNorm(k, T, Hkv, dh, w.k_norm!.weight, cfg.norm_eps);
  } else if (cfg.qkNorm === 'projection') {
    headRmsNorm(q, T, 1, H * dh, w.q_norm!.weight, cfg.norm_eps);
    headRmsNorm(k, T, 1, Hkv * dh, w.k_norm!.weight, cfg.norm_eps);
  }
  if (cosSin) {
    rope(q, T, H, dh, cosSin, cfg.rope!.dim);
    rope(k, T, Hkv, dh, cosSin, cfg.rope!.dim);
  }
  const A = attentionProbs(q, k, T, H, Hkv, dh, { scale: cfg.attention_scale, softcap: cfg.attn_logit_softcapping ?? 0, window: layerWindow(cfg, l) }); // [H, T, T]
  const y = attentionMix(A, v, 1, T, H, Hkv, dh, new Int32Array(1)); // [T, H, dh]
  for (const a of ablation.heads ?? []) {
    if (a.layer === l) for (let t = 0; t < T; t++) y.fill(0, (t * H + a.head) * dh, (t * H + a.head + 1) * dh);
  }
  const attn = postNorm(linear(y, w.o_proj, T, H * dh), T, D, model, w.attn_output_norm); // [T, D]
  const h_mid = add(h_in, attn.out);

  // MLP: it reads h_mid, or the layer's input with a parallel residual.
  const mlpIn = cfg.parallelResidual ? h_in : h_mid;
  const mlp_norm = normStats(mlpIn, T, D, cfg.normKind, cfg.norm_eps);
  const x2 = w.post_attention_layernorm ? applyNorm(mlpIn, T, D, mlp_norm, w.post_attention_layernorm) : mlpIn;
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
  const mlp = postNorm(linear(a, w.down_proj, T, I), T, D, model, w.mlp_output_norm); // [T, D]
  return { h_in, attn_norm, v, A, attn_out: attn.out, attn_out_norm: attn.rec, h_mid, mlp_norm, act: a, mlp_out: mlp.out, mlp_out_norm: mlp.rec };
}

export function forward(model: ReferenceModel, ids: number[], ablation: Ablation = {}): CpuForwardRecord {
  const cfg = model.description;
  const T = ids.length;
  const { D, L, V } = dims(cfg);
  const tables = layerRopeTables(cfg, T);
  let h = embed(model, ids); // [T, D]
  const layers: LayerRecord<Float32Array>[] = [];
  for (let l = 0; l < L; l++) {
    const rec = forwardLayer(model, l, h, T, tables[l]!, ablation);
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
