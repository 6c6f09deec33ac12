// The reference engine's forward pass again, in float64 on a gradient tape, for the gradient
// baselines: d(target logit or logit difference) with respect to the input token embeddings and
// to every head's output. Family differences are branches on the typed description (normKind,
// mlpKind, positionKind, qkNorm, pre/post norms, parallel residual), as in src/depass/forward.ts; a new family feature is a new
// op in ./ops.ts and one branch here. No decomposition, no KV cache.

import type { NormF32, ReferenceModel } from '../../src/depass/reference-model';
import { layerRopeTables, layerWindow } from '../../src/depass/rope';
import { add, addConstant, causalAttention, gatedActivation, layerNorm, linear, plainActivation, readout, rmsNorm, rope, scale } from './ops';
import { Tape, Var } from './tape';

/** What a logit (or logit difference) is read from: the token at `position`, minus `contrast`'s. */
export interface Target {
  position: number;
  token: number;
  contrast?: number;
}

export interface ForwardOptions {
  /** Per layer, a constant [T, H*dh] added to the heads' outputs before o_proj (finite
   *  differences, patching); a missing layer adds nothing. */
  headOffsets?: (Float64Array | undefined)[];
}

/** One float64 forward pass on a tape, with handles on the tensors the baselines differentiate. */
export interface TapeForward {
  tape: Tape;
  T: number;
  /** The input: token embeddings [T, D] (learned positions are added after it, as constants). */
  embeddings: Var;
  /** Per layer: the heads' outputs y [T, H, dh], before o_proj (offsets included). */
  heads: Var[];
  /** The final state after the final norm, [T, D]; logits are x_F W_U^T. */
  final: Var;
  /** Per position, the final norm's 1/rms or 1/std of the real residual, [T]. */
  finalScale: Float64Array;
}

/** The token embeddings of `ids` as float64, [T, D]. */
export function tokenEmbeddings(model: ReferenceModel, ids: number[]): Float64Array {
  const D = model.description.hidden_size;
  const V = model.description.vocab_size;
  const x = new Float64Array(ids.length * D);
  ids.forEach((id, t) => {
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`tokenEmbeddings: token id ${id} at position ${t} is outside the vocabulary (V = ${V})`);
    for (let d = 0; d < D; d++) x[t * D + d] = model.embed_tokens[id * D + d];
  });
  return x;
}

function norm(tape: Tape, model: ReferenceModel, x: Var, w: NormF32, T: number): Var {
  const cfg = model.description;
  const D = cfg.hidden_size;
  return cfg.normKind === 'rms' ? rmsNorm(tape, x, w.weight, T, D, cfg.norm_eps) : layerNorm(tape, x, w.weight, w.bias, T, D, cfg.norm_eps);
}

/** A pre-norm when the layer has one (all but OLMo-2), else x itself. */
function preNorm(tape: Tape, model: ReferenceModel, x: Var, w: NormF32 | undefined, T: number): Var {
  return w ? norm(tape, model, x, w, T) : x;
}

/** The forward pass from token embeddings x [T, D] to the final normalised state, on a new tape. */
export function tapeForward(model: ReferenceModel, embeddings: Float64Array, opts: ForwardOptions = {}): TapeForward {
  const cfg = model.description;
  const D = cfg.hidden_size;
  const H = cfg.num_attention_heads;
  const Hkv = cfg.num_key_value_heads;
  const dh = cfg.head_dim;
  const I = cfg.intermediate_size;
  if (embeddings.length % D !== 0 || embeddings.length === 0) throw new Error(`tapeForward: embeddings of length ${embeddings.length} are not [T, ${D}]`);
  const T = embeddings.length / D;
  if (cfg.positionKind === 'learned' && T > cfg.max_position_embeddings) {
    throw new Error(`tapeForward: ${T} tokens exceed the ${cfg.max_position_embeddings} learned positions`);
  }
  const tape = new Tape();
  const input = new Var(embeddings);
  let h: Var = cfg.embedding_scale !== 1 ? scale(tape, input, cfg.embedding_scale) : input; // [T, D]
  if (cfg.positionKind === 'learned') h = addConstant(tape, h, model.embed_positions!.subarray(0, T * D));
  const tables = layerRopeTables(cfg, T);
  const heads: Var[] = [];

  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const w = model.layers[l];
    // Attention.
    const x = preNorm(tape, model, h, w.input_layernorm, T); // [T, D]
    let q = linear(tape, x, w.q_proj.weight, T, D, H * dh, w.q_proj.bias); // [T, H, dh]
    let k = linear(tape, x, w.k_proj.weight, T, D, Hkv * dh, w.k_proj.bias); // [T, Hkv, dh]
    const v = linear(tape, x, w.v_proj.weight, T, D, Hkv * dh, w.v_proj.bias); // [T, Hkv, dh]
    if (cfg.qkNorm === 'head') {
      q = rmsNorm(tape, q, w.q_norm!.weight, T * H, dh, cfg.norm_eps);
      k = rmsNorm(tape, k, w.k_norm!.weight, T * Hkv, dh, cfg.norm_eps);
    } else if (cfg.qkNorm === 'projection') {
      q = rmsNorm(tape, q, w.q_norm!.weight, T, H * dh, cfg.norm_eps);
      k = rmsNorm(tape, k, w.k_norm!.weight, T, Hkv * dh, cfg.norm_eps);
    }
    const table = tables[l];
    if (table) {
      q = rope(tape, q, T, H, dh, table, cfg.rope!.dim);
      k = rope(tape, k, T, Hkv, dh, table, cfg.rope!.dim);
    }
    let y = causalAttention(tape, q, k, v, T, H, Hkv, dh, {
      scale: cfg.attention_scale,
      softcap: cfg.attn_logit_softcapping ?? 0,
      window: layerWindow(cfg, l),
    }); // [T, H, dh]
    const offset = opts.headOffsets?.[l];
    if (offset) y = addConstant(tape, y, offset);
    heads.push(y);
    let attn = linear(tape, y, w.o_proj.weight, T, H * dh, D, w.o_proj.bias); // [T, D]
    if (w.attn_output_norm) attn = norm(tape, model, attn, w.attn_output_norm, T);
    const hMid = add(tape, h, attn);

    // MLP: it reads hMid, or the layer's input with a parallel residual.
    const x2 = preNorm(tape, model, cfg.parallelResidual ? h : hMid, w.post_attention_layernorm, T); // [T, D]
    let a: Var; // [T, I]
    if (cfg.mlpKind === 'gated') {
      const gate = linear(tape, x2, w.gate_proj!.weight, T, D, I, w.gate_proj!.bias);
      const up = linear(tape, x2, w.up_proj.weight, T, D, I, w.up_proj.bias);
      a = gatedActivation(tape, gate, up, cfg.hidden_act);
    } else {
      a = plainActivation(tape, linear(tape, x2, w.up_proj.weight, T, D, I, w.up_proj.bias), cfg.hidden_act);
    }
    let mlp = linear(tape, a, w.down_proj.weight, T, I, D, w.down_proj.bias); // [T, D]
    if (w.mlp_output_norm) mlp = norm(tape, model, mlp, w.mlp_output_norm, T);
    h = add(tape, hMid, mlp);
  }

  const final = norm(tape, model, h, model.norm, T);
  return { tape, T, embeddings: input, heads, final, finalScale: finalScale(model, h.value, T) };
}

/** The final norm's 1/rms (RMSNorm) or 1/std (LayerNorm) of each row of the residual h [T, D]. */
function finalScale(model: ReferenceModel, h: Float64Array, T: number): Float64Array {
  const cfg = model.description;
  const D = cfg.hidden_size;
  const s = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let mu = 0;
    if (cfg.normKind === 'layer') {
      for (let d = 0; d < D; d++) mu += h[t * D + d];
      mu /= D;
    }
    let ss = 0;
    for (let d = 0; d < D; d++) ss += (h[t * D + d] - mu) ** 2;
    s[t] = 1 / Math.sqrt(ss / D + cfg.norm_eps);
  }
  return s;
}

/** Logits [T, V] of a tape forward's final state, in float64 (for checks against the engine). */
export function logitsOf(model: ReferenceModel, run: TapeForward): Float64Array {
  const D = model.description.hidden_size;
  const V = model.description.vocab_size;
  const x = run.final.value;
  const out = new Float64Array(run.T * V);
  for (let t = 0; t < run.T; t++)
    for (let v = 0; v < V; v++) {
      let acc = 0;
      for (let d = 0; d < D; d++) acc += x[t * D + d] * model.lm_head[v * D + d];
      out[t * V + v] = acc;
    }
  return out;
}

/** The unembedding direction of a target: W_U[token] (- W_U[contrast]), [D]. */
export function targetDirection(model: ReferenceModel, target: Target): Float64Array {
  const { hidden_size: D, vocab_size: V } = model.description;
  for (const id of [target.token, target.contrast]) {
    if (id !== undefined && (!Number.isInteger(id) || id < 0 || id >= V)) throw new Error(`target token ${id} is outside the vocabulary (V = ${V})`);
  }
  const dir = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    dir[d] = model.lm_head[target.token * D + d];
    if (target.contrast !== undefined) dir[d] -= model.lm_head[target.contrast * D + d];
  }
  return dir;
}

export interface Gradients {
  /** The objective: logit[token] (- logit[contrast]) at the target position. */
  value: number;
  /** The input token embeddings x [T, D] and d value / d x. */
  embeddings: Float64Array;
  dEmbeddings: Float64Array;
  /** Per layer, the heads' outputs y [T, H, dh] (before o_proj) and d value / d y. */
  heads: Float64Array[];
  dHeads: Float64Array[];
  /** The final norm's scale per position, [T] (for direct logit attribution). */
  finalScale: Float64Array;
}

/** One forward and one backward pass: the target's value and its gradients with respect to the
 *  input embeddings and every layer's head outputs. */
export function targetGradients(model: ReferenceModel, embeddings: Float64Array, target: Target, opts: ForwardOptions = {}): Gradients {
  const D = model.description.hidden_size;
  const run = tapeForward(model, embeddings, opts);
  if (!Number.isInteger(target.position) || target.position < 0 || target.position >= run.T) {
    throw new Error(`target position ${target.position} is outside the prompt (T = ${run.T})`);
  }
  const f = readout(run.tape, run.final, D, target.position, targetDirection(model, target));
  run.tape.backward(f, Float64Array.of(1));
  const zeros = (v: Var) => v.grad ?? new Float64Array(v.value.length);
  return {
    value: f.value[0],
    embeddings,
    dEmbeddings: zeros(run.embeddings),
    heads: run.heads.map((y) => y.value),
    dHeads: run.heads.map(zeros),
    finalScale: run.finalScale,
  };
}

/** The target's value alone (a forward pass without backward), e.g. for finite differences. */
export function targetValue(model: ReferenceModel, embeddings: Float64Array, target: Target, opts: ForwardOptions = {}): number {
  const D = model.description.hidden_size;
  const run = tapeForward(model, embeddings, opts);
  const dir = targetDirection(model, target);
  let acc = 0;
  for (let d = 0; d < D; d++) acc += run.final.value[target.position * D + d] * dir[d];
  return acc;
}
