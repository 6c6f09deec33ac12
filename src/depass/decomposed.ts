// The decomposed forward pass (DePass) in plain TypeScript: M additive components of the
// residual stream pushed through frozen layers. Attention and norms are linear once A and the
// norm scales are frozen; the MLP hands each neuron's frozen activation to the components by the
// sharing rule. It runs the kernels' twins on the same active-row layout as the GPU engine, so
// this is the oracle for the GPU, not a fast path.

import { dims } from '../model/description';
import { gemm } from './gemm';
import { attentionMix, mlpShare, normApply, readoutScores } from './ops';
import { type Branch, type PassPlan, present, rowsOf } from './plan';
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

/** Frozen normalisation of every component row: gamma * (C_m - centre) * scale (+ beta on the rest); no norm: the rows themselves. */
function normComponents(model: ReferenceModel, pass: CpuPass, rec: NormRecord<Float32Array>, norm: NormF32 | undefined): Float32Array {
  const { plan, T, D } = pass;
  if (!norm) return pass.data;
  return normApply(pass.data, plan.M * T, D, T, rec.scale, norm.weight, {
    center: model.description.normKind === 'layer',
    beta: norm.bias,
    betaRows: (r) => Math.floor(r / T) === plan.rest,
  });
}

/**
 * A branch's component writes `out` [M, T, D] joining `into`: through the branch's post-norm at the
 * frozen scale of the real output (Gemma 2/3, OLMo-2), else as they are.
 */
function join(
  model: ReferenceModel,
  pass: CpuPass,
  out: Float32Array,
  rec: NormRecord<Float32Array> | undefined,
  norm: NormF32 | undefined,
  into: Float32Array,
): void {
  const { plan, T, D } = pass;
  if (norm && rec) normApply(out, plan.M * T, D, T, rec.scale, norm.weight, { center: model.description.normKind === 'layer', accumulate: into });
  else for (let i = 0; i < into.length; i++) into[i] += out[i];
}

/** Attention of one layer on the components, with A frozen: Wo (A (Wv x_m)) per component into `into`; b_v, b_o to the rest. */
export function decomposedAttention(model: ReferenceModel, l: number, rec: LayerRecord<Float32Array>, pass: CpuPass, into = pass.data): void {
  const { H, Hkv, dh, D } = dims(model.description);
  const { plan, T, rows } = pass;
  const R = rows.length;
  const w = model.layers[l];
  const x = normComponents(model, pass, rec.attn_norm, w.input_layernorm); // [M, T, D]
  // The value bias goes to the rest: rows of A sum to one, so it reaches every position whole.
  const v = new Float32Array(plan.M * T * Hkv * dh); // [M, T, Hkv, dh]
  gemm(x, w.v_proj.weight, v, { R, N: Hkv * dh, K: D, rows, T, bias: w.v_proj.bias, biasBlock: plan.rest });
  const y = attentionMix(rec.A, v, plan.M, T, H, Hkv, dh, plan.start); // [M, T, H, dh]
  if (!w.attn_output_norm && into === pass.data) {
    gemm(y, w.o_proj.weight, pass.data, { R, N: D, K: H * dh, rows, T, bias: w.o_proj.bias, biasBlock: plan.rest, accumulate: true });
    return;
  }
  const out = new Float32Array(plan.M * T * D);
  gemm(y, w.o_proj.weight, out, { R, N: D, K: H * dh, rows, T, bias: w.o_proj.bias, biasBlock: plan.rest });
  join(model, pass, out, rec.attn_out_norm, w.attn_output_norm, into);
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
  // With a post-norm the writes are gathered first and join through it at the end.
  const out = w.mlp_output_norm ? new Float32Array(M * T * D) : pass.data;
  for (let j0 = 0; j0 < I; j0 += J) {
    const Jt = Math.min(J, I - j0);
    gemm(x, pre.weight, g, { R, N: Jt, K: D, w0: j0 * D, rows, T, bias: pre.bias, bias0: j0, biasBlock: rest });
    for (let t = 0; t < T; t++) for (let j = 0; j < Jt; j++) a[t * Jt + j] = rec.act[t * I + j0 + j];
    const c = mlpShare(g, a, M, T, Jt, plan.start, share.rule, share.tau, plan.bosRule); // [M, T, Jt]
    // Columns j0..j0+Jt of down_proj [D, I]; its bias once, to the rest.
    gemm(c, w.down_proj.weight, out, {
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
  if (out !== pass.data) join(model, pass, out, rec.mlp_out_norm, w.mlp_output_norm, pass.data);
}

/** The pass restricted to the components present in a branch of layer l (a prefix; the same data). */
function presentPass(model: ReferenceModel, pass: CpuPass, l: number, branch: Branch): CpuPass {
  const { plan, T, D } = pass;
  const M = present(plan, l, branch, model.description.parallelResidual);
  if (M === plan.M) return pass;
  return {
    plan: { ...plan, M, start: plan.start.subarray(0, M), enter: plan.enter.subarray(0, M) },
    T,
    D,
    data: pass.data.subarray(0, M * T * D),
    rows: pass.rows.subarray(0, rowsOf(plan, T, M)),
  };
}

/**
 * Layer l of the pass (from its MLP when the plan starts there), on the components present in
 * each branch. With a parallel residual both branches read the layer's input components, so the
 * attention's writes join after the MLP read. `join` adds the components joining at layer l
 * (components.ts joinAt): after the attention, or after the layer with a parallel residual.
 */
export function decomposedLayer(
  model: ReferenceModel,
  l: number,
  rec: LayerRecord<Float32Array>,
  pass: CpuPass,
  share: ShareRule,
  join: () => void = () => {},
): void {
  const attention = !(pass.plan.startAtMlp && l === pass.plan.from);
  const attn = presentPass(model, pass, l, 'attention');
  if (!model.description.parallelResidual) {
    if (attention) decomposedAttention(model, l, rec, attn);
    join();
    decomposedMlp(model, l, rec, presentPass(model, pass, l, 'mlp'), share);
    return;
  }
  const pending = new Float32Array(attn.data.length);
  if (attention) decomposedAttention(model, l, rec, attn, pending);
  decomposedMlp(model, l, rec, presentPass(model, pass, l, 'mlp'), share);
  for (let i = 0; i < pending.length; i++) pass.data[i] += pending[i];
  join();
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
