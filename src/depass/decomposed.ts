// The decomposed forward pass (DePass) in plain TypeScript: M additive components of the
// residual stream pushed through frozen layers. Attention and norms are linear once A and the
// norm scales are frozen; the MLP hands each neuron's frozen activation to the components by the
// sharing rule. It runs the kernels' twins on the same active-row layout as the GPU engine, so
// this is the oracle for the GPU, not a fast path.

import { dims } from '../model/description';
import { gemm } from './gemm';
import { attentionMix, mlpShare, normApply, readoutScores } from './ops';
import type { PassPlan } from './plan';
import type { LayerRecord, NormRecord } from './record';
import type { NormF32, ReferenceModel } from './reference-model';
import type { Rule } from './result';

/** The components of one pass: sum_m data[m] = the real residual. */
export interface CpuPass {
  plan: PassPlan;
  T: number;
  D: number;
  data: Float32Array; // [M, T, D]
  /** Rows m * T + t that can be non-zero (plan.start[m] <= t): the only rows computed. */
  rows: Uint32Array;
}

export interface ShareRule {
  rule: Rule;
  tau: number;
  /** Neurons per MLP tile, so that M * T * I is never held at once. */
  neuronTile?: number;
}

/** Frozen normalisation of every component row: gamma * (C_m - centre) * scale (+ beta on the rest). */
function normComponents(model: ReferenceModel, pass: CpuPass, rec: NormRecord<Float32Array>, norm: NormF32): Float32Array {
  const { plan, T, D } = pass;
  return normApply(pass.data, plan.M * T, D, T, rec.scale, norm.weight, {
    center: model.description.normKind === 'layer',
    beta: norm.bias,
    betaRows: (r) => Math.floor(r / T) === plan.rest,
  });
}

/** Attention of one layer on the components, with A frozen: C_m += Wo (A (Wv x_m)); b_v, b_o to the rest. */
export function decomposedAttention(model: ReferenceModel, l: number, rec: LayerRecord<Float32Array>, pass: CpuPass): void {
  const { H, Hkv, dh, D } = dims(model.description);
  const { plan, T, rows } = pass;
  const R = rows.length;
  const w = model.layers[l];
  const x = normComponents(model, pass, rec.attn_norm, w.input_layernorm); // [M, T, D]
  // The value bias goes to the rest: rows of A sum to one, so it reaches every position whole.
  const v = new Float32Array(plan.M * T * Hkv * dh); // [M, T, Hkv, dh]
  gemm(x, w.v_proj.weight, v, { R, N: Hkv * dh, K: D, rows, T, bias: w.v_proj.bias, biasBlock: plan.rest });
  const y = attentionMix(rec.A, v, plan.M, T, H, Hkv, dh, plan.start); // [M, T, H, dh]
  gemm(y, w.o_proj.weight, pass.data, { R, N: D, K: H * dh, rows, T, bias: w.o_proj.bias, biasBlock: plan.rest, accumulate: true });
}

/** The MLP of one layer on the components: each neuron's frozen activation shared by the rule. */
export function decomposedMlp(model: ReferenceModel, l: number, rec: LayerRecord<Float32Array>, pass: CpuPass, share: ShareRule): void {
  const cfg = model.description;
  const { D, I } = dims(cfg);
  const { plan, T, rows } = pass;
  const { M, rest } = plan;
  const R = rows.length;
  const w = model.layers[l];
  const x = normComponents(model, pass, rec.mlp_norm, w.post_attention_layernorm); // [M, T, D]
  // The pre-activation whose share decides the split: the gate (gated MLPs) or fc (GPT-2).
  const pre = cfg.mlpKind === 'gated' ? w.gate_proj! : w.up_proj;
  const J = Math.min(I, share.neuronTile ?? 256);
  const g = new Float32Array(M * T * J); // [M, T, J]
  const a = new Float32Array(T * J); // [T, J] frozen activations of this tile
  for (let j0 = 0; j0 < I; j0 += J) {
    const Jt = Math.min(J, I - j0);
    gemm(x, pre.weight, g, { R, N: Jt, K: D, w0: j0 * D, rows, T, bias: pre.bias, bias0: j0, biasBlock: rest });
    for (let t = 0; t < T; t++) for (let j = 0; j < Jt; j++) a[t * Jt + j] = rec.act[t * I + j0 + j];
    const c = mlpShare(g, a, M, T, Jt, plan.start, share.rule, share.tau, plan.bosRule); // [M, T, Jt]
    // Columns j0..j0+Jt of down_proj [D, I]; its bias once, to the rest.
    gemm(c, w.down_proj.weight, pass.data, {
      R,
      N: D,
      K: Jt,
      w0: j0,
      ldw: I,
      rows,
      T,
      bias: j0 === 0 ? w.down_proj.bias : undefined,
      biasBlock: rest,
      accumulate: true,
    });
  }
}

/** Layer l of the pass (from its MLP when the plan starts there). */
export function decomposedLayer(model: ReferenceModel, l: number, rec: LayerRecord<Float32Array>, pass: CpuPass, share: ShareRule): void {
  if (!(pass.plan.startAtMlp && l === pass.plan.from)) decomposedAttention(model, l, rec, pass);
  decomposedMlp(model, l, rec, pass, share);
}

/**
 * Each component's score for each target through a frozen final norm, [targets, M] in f64:
 * score[i][m] = dir_i . (gamma * (C_m[p_i] - centre) * scale[p_i]) (+ dir_i . beta on the rest).
 */
export function readout(model: ReferenceModel, pass: CpuPass, norm: NormRecord<Float32Array>, dirs: Float32Array, positions: ArrayLike<number>): Float64Array {
  const { plan, T, D } = pass;
  return readoutScores(pass.data, plan.M, T, D, plan.rest, dirs, positions, norm.scale, model.norm.weight, {
    center: model.description.normKind === 'layer',
    beta: model.norm.bias,
  });
}
