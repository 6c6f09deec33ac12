// The decomposed forward pass (DePass) in plain TypeScript: M additive components of the
// residual stream pushed through frozen layers. Attention and norms are linear once A and the
// norm scales are frozen; the MLP hands each neuron's frozen activation to the components by
// the sharing rule. This is the oracle for the GPU engine, not a fast path.

import type { ForwardRecord, LayerRecord, NormRecord } from './forward';
import { attentionMix, matmul, mlpShare, normApply } from './ops';
import type { LayerF32, NormF32, ReferenceModel } from './reference-model';
import type { Rule } from './result';

/** M additive components of the hidden state: sum_m data[m] = the real residual. */
export interface Components {
  M: number;
  T: number;
  D: number;
  data: Float32Array; // [M, T, D]
  /** start[m]: component m is structurally zero at every position t < start[m]. */
  start: Int32Array; // [M]
  /** Index of the rest component, which receives every bias and LayerNorm beta. */
  rest: number;
}

export interface DecomposeOptions {
  rule: Rule;
  tau: number;
  /** Token mode with BOS at position 0: component 0 takes no MLP share at t > 0. */
  bosRule: boolean;
  /** Neurons per MLP tile, so that M * T * I is never held at once. */
  neuronTile?: number;
}

/** Whether biases or LayerNorm betas feed the rest component (it is then never structurally zero). */
export function modelHasBiases(model: ReferenceModel): boolean {
  const c = model.description;
  return c.hasQkvBias || c.hasOBias || c.hasMlpBias || c.normKind === 'layer';
}

/** Frozen normalisation of every component row: x_m = gamma * (C_m - centre) * scale (+ beta on rest). */
function normComponents(model: ReferenceModel, C: Components, rec: NormRecord, norm: NormF32): Float32Array {
  const layerNorm = model.description.normKind === 'layer';
  return normApply(C.data, C.M * C.T, C.D, C.T, rec.scale, norm.weight, {
    center: layerNorm,
    beta: norm.bias,
    betaRows: (r) => Math.floor(r / C.T) === C.rest,
  });
}

/** Rows [m*T + start[m], (m+1)*T) of X times W^T, written into Y; skips structurally zero rows. */
function matmulRows(
  C: Components,
  X: Float32Array,
  K: number,
  W: Float32Array,
  N: number,
  Y: Float32Array,
  restBias?: Float32Array,
): void {
  const { M, T } = C;
  for (let m = 0; m < M; m++) {
    const t0 = C.start[m];
    if (t0 >= T) continue;
    const rows = T - t0;
    const r0 = m * T + t0;
    matmul(X.subarray(r0 * K, (r0 + rows) * K), W, rows, K, N, {
      bias: m === C.rest ? restBias : undefined,
      out: Y.subarray(r0 * N, (r0 + rows) * N),
    });
  }
}

/** Adds a bias to every position of the rest component. */
function addToRest(C: Components, bias: Float32Array | undefined): void {
  if (!bias) return;
  const o = C.rest * C.T * C.D;
  for (let t = 0; t < C.T; t++) for (let d = 0; d < C.D; d++) C.data[o + t * C.D + d] += bias[d];
}

/** Attention of one layer on the components, with A frozen: C_m += Wo (A (Wv x_m)). */
export function decomposedAttention(model: ReferenceModel, l: number, rec: LayerRecord, C: Components): void {
  const cfg = model.description;
  const { M, T, D } = C;
  const H = cfg.num_attention_heads;
  const Hkv = cfg.num_key_value_heads;
  const dh = cfg.head_dim;
  const w: LayerF32 = model.layers[l];
  const x = normComponents(model, C, rec.attn_norm, w.input_layernorm); // [M, T, D]
  const v = new Float32Array(M * T * Hkv * dh); // [M, T, Hkv, dh]
  // The value bias goes to the rest: rows of A sum to one, so it reaches every position whole.
  matmulRows(C, x, D, w.v_proj.weight, Hkv * dh, v, w.v_proj.bias);
  const y = attentionMix(rec.A, v, M, T, H, Hkv, dh, C.start); // [M, T, H, dh]
  const o = new Float32Array(M * T * D);
  matmulRows(C, y, H * dh, w.o_proj.weight, D, o);
  for (let i = 0; i < o.length; i++) C.data[i] += o[i];
  addToRest(C, w.o_proj.bias);
}

/** The MLP of one layer on the components: each neuron's frozen activation shared by the rule. */
export function decomposedMlp(model: ReferenceModel, l: number, rec: LayerRecord, C: Components, opts: DecomposeOptions): void {
  const cfg = model.description;
  const { M, T, D } = C;
  const I = cfg.intermediate_size;
  const w: LayerF32 = model.layers[l];
  const x = normComponents(model, C, rec.mlp_norm, w.post_attention_layernorm); // [M, T, D]
  // The pre-activation whose share decides the split: the gate (gated MLPs) or fc (GPT-2).
  const pre = cfg.mlpKind === 'gated' ? w.gate_proj! : w.up_proj;
  const tile = Math.min(I, opts.neuronTile ?? 256);
  const exclude = opts.bosRule ? (m: number, t: number) => m === 0 && t > 0 : undefined;
  // Where no component takes part the rest takes the whole activation, so it stops being zero there.
  for (let t = 0; t < T; t++) {
    let any = false;
    for (let m = 0; m < M && !any; m++) any = C.start[m] <= t && !(exclude && exclude(m, t));
    if (!any) {
      C.start[C.rest] = Math.min(C.start[C.rest], t);
      break;
    }
  }
  const write = new Float32Array(M * T * D);
  for (let j0 = 0; j0 < I; j0 += tile) {
    const J = Math.min(tile, I - j0);
    const Wpre = pre.weight.subarray(j0 * D, (j0 + J) * D); // [J, D]
    const g = new Float32Array(M * T * J); // [M, T, J]
    matmulRows(C, x, D, Wpre, J, g, pre.bias?.subarray(j0, j0 + J));
    const a = new Float32Array(T * J); // [T, J] frozen activations of this tile
    for (let t = 0; t < T; t++) for (let j = 0; j < J; j++) a[t * J + j] = rec.act[t * I + j0 + j];
    const c = mlpShare(g, a, M, T, J, C.start, C.rest, opts.rule, opts.tau, exclude); // [M, T, J]
    const Wd = new Float32Array(D * J); // [D, J] columns j0..j0+J of down_proj
    for (let d = 0; d < D; d++) for (let j = 0; j < J; j++) Wd[d * J + j] = w.down_proj.weight[d * I + j0 + j];
    const part = new Float32Array(M * T * D);
    matmulRows(C, c, J, Wd, D, part);
    for (let i = 0; i < part.length; i++) write[i] += part[i];
  }
  for (let i = 0; i < write.length; i++) C.data[i] += write[i];
  addToRest(C, w.down_proj.bias);
}

/** Push the components through layers from..to-1 (optionally starting after the attention of `from`). */
export function decomposedLayers(
  model: ReferenceModel,
  fwd: ForwardRecord,
  C: Components,
  from: number,
  opts: DecomposeOptions,
  startAtMlp = false,
  onLayer?: (l: number, C: Components) => void,
  to = model.description.num_hidden_layers,
): void {
  for (let l = from; l < to; l++) {
    if (!(startAtMlp && l === from)) decomposedAttention(model, l, fwd.layers[l], C);
    decomposedMlp(model, l, fwd.layers[l], C, opts);
    onLayer?.(l, C);
  }
}

/** A target as a read-out direction: w = W_U[id] - W_U[contrast] (D floats) at `position`. */
export interface ReadoutTarget {
  position: number;
  direction: Float32Array; // [D]
}

/**
 * Each component's score for each target through a frozen final norm:
 * score[i][m] = w_i . (gamma * (C_m[p_i] - centre) * scale[p_i]) (+ w_i . beta on the rest).
 * Returns [targets, M] in f64.
 */
export function readout(model: ReferenceModel, C: Components, rec: NormRecord, targets: ReadoutTarget[]): Float64Array {
  const { M, T, D } = C;
  const norm = model.norm;
  const layerNorm = model.description.normKind === 'layer';
  const out = new Float64Array(targets.length * M);
  targets.forEach((tg, i) => {
    const p = tg.position;
    const s = rec.scale[p];
    for (let m = 0; m < M; m++) {
      const o = (m * T + p) * D;
      let centre = 0;
      if (layerNorm) {
        for (let d = 0; d < D; d++) centre += C.data[o + d];
        centre /= D;
      }
      let acc = 0;
      for (let d = 0; d < D; d++) acc += tg.direction[d] * norm.weight[d] * (C.data[o + d] - centre);
      acc *= s;
      if (m === C.rest && norm.bias) for (let d = 0; d < D; d++) acc += tg.direction[d] * norm.bias[d];
      out[i * M + m] = acc;
    }
  });
  return out;
}
