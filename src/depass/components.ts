// The initial components of each granularity in the reference engine, [M, T, D], built from the
// forward record, and those that join a pass later (the one-pass head map's heads): what differs
// between the modes. The pass itself (decomposed.ts) is the same for all of them. The GPU builds the same components in
// src/gpu/components.ts; src/depass/bias-placement.test.ts checks both against the formulas.

import { dims } from '../model/description';
import type { ModeRequest } from './backend';
import { applyNorm, linear } from './forward';
import { gemm } from './gemm';
import { attentionMix, normApply } from './ops';
import { joining, type PassPlan } from './plan';
import { type ForwardRecord, residualAfter } from './record';
import type { ReferenceModel } from './reference-model';

type Record32 = ForwardRecord<Float32Array>;

export function buildComponents(model: ReferenceModel, rec: Record32, req: ModeRequest): Float32Array {
  switch (req.kind) {
    case 'token':
      return tokenComponents(model, rec);
    case 'head':
      return headComponents(model, rec, req.layer);
    case 'head_map':
      return headMapComponents(model, rec);
    case 'neuron':
      return neuronComponents(model, rec, req.layer, req.from, req.to);
    case 'module':
      return moduleComponents(model, rec, req.layer);
    case 'subspace':
      return subspaceComponents(model, rec, req.layer, req.direction);
  }
}

/** Token mode: component m holds token m's embedding (and learned position) at position m; the rest starts empty. */
export function tokenComponents(model: ReferenceModel, rec: Record32): Float32Array {
  const { T } = rec;
  const D = model.description.hidden_size;
  const data = new Float32Array((T + 1) * T * D);
  const h0 = rec.layers[0].h_in; // [T, D] the embeddings themselves
  for (let m = 0; m < T; m++) data.set(h0.subarray(m * D, (m + 1) * D), (m * T + m) * D);
  return data;
}

/**
 * The heads' writes at layer l, [H, T, D]: head h's is Wo_h (A_h v^_h), where v^ is the value of
 * the normalised input without LayerNorm's beta and without b_v: what the head reads from the
 * tokens. beta, b_v and b_o are constants the heads add whatever the input (rows of A sum to one),
 * so they stay with the rest. A post-norm on the attention's output applies to each head at the
 * frozen scale.
 */
function headWrites(model: ReferenceModel, rec: Record32, l: number): Float32Array {
  const cfg = model.description;
  const { D, H, Hkv, dh } = dims(cfg);
  const { T } = rec;
  const lr = rec.layers[l];
  const w = model.layers[l];
  const norm = w.input_layernorm;
  const centred = norm ? applyNorm(lr.h_in, T, D, lr.attn_norm, { weight: norm.weight }) : lr.h_in; // [T, D] without beta
  const v = linear(centred, { weight: w.v_proj.weight }, T, D); // [T, Hkv*dh] without b_v
  const y = attentionMix(lr.A, v, 1, T, H, Hkv, dh, new Int32Array(1)); // [T, H, dh]
  const heads = new Float32Array(H * T * D);
  // Head h alone: the dh columns of its output through its dh columns of Wo (batch of H products).
  gemm(y, w.o_proj.weight, heads, { batch: H, R: T, N: D, K: dh, ldx: H * dh, xb: dh, ldw: H * dh, wb: dh, yb: T * D });
  if (!w.attn_output_norm) return heads;
  return normApply(heads, H * T, D, T, lr.attn_out_norm!.scale, w.attn_output_norm.weight, { center: cfg.normKind === 'layer' });
}

/**
 * Head mode at layer l: the heads' writes (headWrites), and the rest = h_l + Wo (Wv beta + b_v) + b_o,
 * i.e. h_l + attn_out minus every head. With a parallel residual the pass starts after the layer,
 * and the rest also holds the layer's MLP output.
 */
export function headComponents(model: ReferenceModel, rec: Record32, l: number): Float32Array {
  const cfg = model.description;
  const { D, H } = dims(cfg);
  const { T } = rec;
  const data = new Float32Array((H + 1) * T * D);
  data.set(headWrites(model, rec, l));
  const rest = data.subarray(H * T * D);
  rest.set(cfg.parallelResidual ? residualAfter(rec, l) : rec.layers[l].h_mid);
  for (let h = 0; h < H; h++) {
    const out = data.subarray(h * T * D, (h + 1) * T * D);
    for (let i = 0; i < T * D; i++) rest[i] -= out[i];
  }
  return data;
}

/** The one-pass head map's start: the rest (component 0) holds the embeddings; every head joins later (joinAt). */
export function headMapComponents(model: ReferenceModel, rec: Record32): Float32Array {
  const { D, L, H } = dims(model.description);
  const data = new Float32Array((L * H + 1) * rec.T * D);
  data.set(rec.layers[0].h_in);
  return data;
}

/**
 * The components joining the pass at layer l (plan.enter), written into `data` [M, T, D]: in the
 * one-pass head map the heads of layer l, taken from the rest so that the components still sum to
 * the real residual.
 */
export function joinAt(model: ReferenceModel, rec: Record32, plan: PassPlan, l: number, data: Float32Array): void {
  const [first, end] = joining(plan, l);
  if (first === end) return;
  if (plan.kind !== 'head_map' || end - first !== model.description.num_attention_heads) throw new Error(`joinAt: nothing joins a ${plan.kind} pass`);
  const block = rec.T * model.description.hidden_size;
  const heads = headWrites(model, rec, l);
  data.set(heads, first * block);
  const rest = data.subarray(plan.rest * block, (plan.rest + 1) * block);
  for (let i = 0; i < heads.length; i++) rest[i % block] -= heads[i];
}

/**
 * Neuron mode at layer l: neuron j's write a[t][j] * Wdown[:, j] for j in from..to-1 (through the
 * MLP's post-norm at its frozen scale, when there is one); the rest is the state after the MLP
 * minus them.
 */
export function neuronComponents(model: ReferenceModel, rec: Record32, l: number, from: number, to: number): Float32Array {
  const cfg = model.description;
  const { D, I } = dims(cfg);
  const { T } = rec;
  const G = to - from;
  const lr = rec.layers[l];
  const w = model.layers[l];
  const Wd = w.down_proj.weight; // [D, I]
  const data = new Float32Array((G + 1) * T * D);
  for (let g = 0; g < G; g++) {
    const j = from + g;
    for (let t = 0; t < T; t++) {
      const a = lr.act[t * I + j];
      const o = (g * T + t) * D;
      for (let d = 0; d < D; d++) data[o + d] = a * Wd[d * I + j];
    }
  }
  if (w.mlp_output_norm)
    data.set(normApply(data.subarray(0, G * T * D), G * T, D, T, lr.mlp_out_norm!.scale, w.mlp_output_norm.weight, { center: cfg.normKind === 'layer' }));
  // The rest is the state after the MLP (not before it) minus the tracked writes.
  const rest = data.subarray(G * T * D);
  rest.set(residualAfter(rec, l));
  for (let i = 0; i < G * T * D; i++) rest[i % (T * D)] -= data[i];
  return data;
}

/** Module mode at layer l: incoming residual (the rest), the attention's and the MLP's whole outputs (their biases included). */
export function moduleComponents(model: ReferenceModel, rec: Record32, l: number): Float32Array {
  const D = model.description.hidden_size;
  const { T } = rec;
  const lr = rec.layers[l];
  const data = new Float32Array(3 * T * D);
  data.set(lr.h_in, 0);
  data.set(lr.attn_out, T * D);
  data.set(lr.mlp_out, 2 * T * D);
  return data;
}

/** Subspace mode at layer l: the residual entering l split into (h.u/|u|^2) u and h minus that (the rest). */
export function subspaceComponents(model: ReferenceModel, rec: Record32, l: number, u: Float32Array): Float32Array {
  const D = model.description.hidden_size;
  const { T } = rec;
  const h = l < rec.layers.length ? rec.layers[l].h_in : rec.h_final;
  const data = new Float32Array(2 * T * D);
  let uu = 0;
  for (let d = 0; d < D; d++) uu += u[d] * u[d];
  for (let t = 0; t < T; t++) {
    let hu = 0;
    for (let d = 0; d < D; d++) hu += h[t * D + d] * u[d];
    const c = uu > 0 ? hu / uu : 0;
    for (let d = 0; d < D; d++) {
      const p = c * u[d];
      data[t * D + d] = p;
      data[(T + t) * D + d] = h[t * D + d] - p;
    }
  }
  return data;
}
