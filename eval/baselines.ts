// The attribution baselines the field compares DePass with, on the CPU in float64: direct logit
// attribution, gradient x input and integrated gradients per context token, and attribution
// patching per head. All explain one target: a logit, or a logit difference against a contrast
// token, at one position. Higher scores mean more credit for the target.

import type { ReferenceModel } from '../src/depass/reference-model';
import { type Gradients, type Target, tapeForward, targetDirection, targetGradients, targetValue, tokenEmbeddings } from './grad/model';

/**
 * Direct logit attribution of each context token: its token embedding E[id_t] read out along the
 * target direction (W_U[token] - W_U[contrast]) through the final norm, frozen as in DePass: the
 * real final state's scale at the target position, gamma, and for LayerNorm the token's own
 * centring; no beta, no learned position embedding, nothing the layers add. It is what each
 * token's embedding would add to the target logit if it reached the unembedding unchanged. The
 * scale is one positive number for all tokens, so it changes no ranking. Returns [T].
 */
export function directLogitAttribution(model: ReferenceModel, ids: number[], target: Target, finalScale?: Float64Array): Float64Array {
  const cfg = model.description;
  const D = cfg.hidden_size;
  const T = ids.length;
  const x = tokenEmbeddings(model, ids); // [T, D]
  const s = (finalScale ?? tapeForward(model, x).finalScale)[target.position];
  const dir = targetDirection(model, target); // [D]
  const gamma = model.norm.weight;
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let c = 0;
    if (cfg.normKind === 'layer') {
      for (let d = 0; d < D; d++) c += x[t * D + d];
      c /= D;
    }
    let acc = 0;
    for (let d = 0; d < D; d++) acc += dir[d] * gamma[d] * (x[t * D + d] - c);
    out[t] = s * acc;
  }
  return out;
}

/** Per token, sum over d of x[t, d] * g[t, d]. x, g [T, D]; returns [T]. */
function rowDots(x: Float64Array, g: Float64Array, T: number, D: number): Float64Array {
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let acc = 0;
    for (let d = 0; d < D; d++) acc += x[t * D + d] * g[t * D + d];
    out[t] = acc;
  }
  return out;
}

/** Gradient x input on the token embeddings, summed over the hidden dimension: [T]. */
export function gradientTimesInput(model: ReferenceModel, ids: number[], target: Target, grads?: Gradients): Float64Array {
  const g = grads ?? targetGradients(model, tokenEmbeddings(model, ids), target);
  return rowDots(g.embeddings, g.dEmbeddings, ids.length, model.description.hidden_size);
}

export interface IntegratedGradients {
  /** Per token, (x - x') . (mean gradient along the path), [T]. */
  scores: Float64Array;
  /** The target at the input, f(x), and at the baseline, f(x'). Completeness: the scores sum to
   *  f(x) - f(x') up to the quadrature error, where the path is smooth (see below). */
  value: number;
  baselineValue: number;
}

export interface IntegratedGradientsOptions {
  /** Points of the path integral; default 32. */
  steps?: number;
  /** The baseline token embeddings x' [T, D]; default zero. */
  baseline?: Float64Array;
}

/**
 * Integrated gradients (Sundararajan et al. 2017) on the token embeddings: the straight path
 * x' + alpha (x - x') for alpha in [0, 1], learned position embeddings left in place (they are not
 * the input being explained), zero baseline by default. The integral uses the midpoint rule,
 * alpha_k = (k + 1/2) / steps, whose error falls as 1/steps^2 where the integrand is smooth.
 *
 * On a model whose first layers see only the token embeddings through RMSNorm and no bias (the
 * Llama family without biases), zero is a degenerate point: every norm rescales a vanishing input
 * back to unit size, so f(alpha x) keeps changing by O(1) at ever smaller alpha, down to
 * alpha ~ 1e-20, and no quadrature reaches f(x) - f(0). The scores then describe the path from
 * alpha ~ 1/(2 steps) to 1; compare their sum with value - baselineValue to see how much is missing.
 */
export function integratedGradients(model: ReferenceModel, ids: number[], target: Target, opts: IntegratedGradientsOptions = {}): IntegratedGradients {
  const steps = opts.steps ?? 32;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`integratedGradients: steps must be a positive integer, not ${steps}`);
  const D = model.description.hidden_size;
  const T = ids.length;
  const x = tokenEmbeddings(model, ids); // [T, D]
  const x0 = opts.baseline ?? new Float64Array(T * D); // [T, D]
  if (x0.length !== T * D) throw new Error(`integratedGradients: the baseline has ${x0.length} elements, not T * D = ${T * D}`);
  const mean = new Float64Array(T * D); // [T, D] mean gradient along the path
  const xa = new Float64Array(T * D);
  for (let k = 0; k < steps; k++) {
    const alpha = (k + 0.5) / steps;
    for (let i = 0; i < xa.length; i++) xa[i] = x0[i] + alpha * (x[i] - x0[i]);
    const g = targetGradients(model, xa, target).dEmbeddings;
    for (let i = 0; i < mean.length; i++) mean[i] += g[i] / steps;
  }
  const delta = x.map((v, i) => v - x0[i]);
  return {
    scores: rowDots(delta, mean, T, D),
    value: targetValue(model, x, target),
    baselineValue: targetValue(model, x0, target),
  };
}

/**
 * Attribution patching for heads (Nanda 2023; Syed et al. 2023) against zero ablation: for head h
 * of layer l, the gradient of the target with respect to the head's output y[:, h, :] (before
 * o_proj, every position) dotted with that output. It is the first-order estimate of
 * f - f(head zeroed), the effect that head masking measures. Returns [L * H], index l * H + h.
 */
export function attributionPatching(model: ReferenceModel, ids: number[], target: Target, grads?: Gradients): Float64Array {
  const cfg = model.description;
  const H = cfg.num_attention_heads;
  const dh = cfg.head_dim;
  const T = ids.length;
  const g = grads ?? targetGradients(model, tokenEmbeddings(model, ids), target);
  const out = new Float64Array(cfg.num_hidden_layers * H);
  g.heads.forEach((y, l) => {
    const dy = g.dHeads[l];
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const o = (t * H + h) * dh;
        let acc = 0;
        for (let e = 0; e < dh; e++) acc += y[o + e] * dy[o + e];
        out[l * H + h] += acc;
      }
  });
  return out;
}

export interface Baselines {
  value: number;
  directLogit: Float64Array; // [T]
  gradientTimesInput: Float64Array; // [T]
  integratedGradients: IntegratedGradients;
  attributionPatching: Float64Array; // [L * H]
}

/** Every baseline for one target, sharing the one gradient pass at the input. */
export function allBaselines(model: ReferenceModel, ids: number[], target: Target, igSteps = 32): Baselines {
  const grads = targetGradients(model, tokenEmbeddings(model, ids), target);
  return {
    value: grads.value,
    directLogit: directLogitAttribution(model, ids, target, grads.finalScale),
    gradientTimesInput: gradientTimesInput(model, ids, target, grads),
    integratedGradients: integratedGradients(model, ids, target, { steps: igSteps }),
    attributionPatching: attributionPatching(model, ids, target, grads),
  };
}
