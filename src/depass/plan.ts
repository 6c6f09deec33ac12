// The plan of one decomposed pass: how many components a granularity starts with, which one is
// the rest, the layer the pass starts at (and whether at that layer's MLP), the first position at
// which each component can be non-zero, the layer at which each joins the pass, and the BOS rule.
// Every backend and the GPU memory estimate take it from here, so they cannot disagree on what a
// mode means.

import { dims, type ModelDescription } from '../model/description';
import type { ModeRequest, TargetSpec } from './backend';

export interface PassPlan {
  kind: ModeRequest['kind'];
  /** Components, the rest included. */
  M: number;
  /** Index of the rest component: it receives every bias and LayerNorm beta. */
  rest: number;
  /** The first layer the pass runs through. */
  from: number;
  /** The first layer starts at its MLP (head mode: the heads are that layer's attention output). */
  startAtMlp: boolean;
  /** start[m]: component m is structurally zero at every position t < start[m]. */
  start: Int32Array; // [M]
  /**
   * enter[m]: the layer at whose attention output component m joins the pass (-1: present from the
   * start); it is structurally zero before, and the pass skips it there (see present()). Joining
   * components come in order of enter, so the ones present at any point are a prefix of the M.
   */
  enter: Int32Array; // [M]
  /** Token mode with BOS at position 0: component 0 takes no MLP share at positions t > 0. */
  bosRule: boolean;
}

export class PlanError extends RangeError {
  override readonly name = 'PlanError';
}

/** Whether biases or LayerNorm betas feed the rest component (it is then never structurally zero). */
export function hasBiases(cfg: ModelDescription): boolean {
  return cfg.hasQkvBias || cfg.hasOBias || cfg.hasMlpBias || cfg.normKind === 'layer';
}

/** Components of a request, the rest included. */
export function componentCount(cfg: ModelDescription, T: number, req: ModeRequest): number {
  switch (req.kind) {
    case 'token':
      return T + 1;
    case 'head':
      return cfg.num_attention_heads + 1;
    case 'head_map':
      return cfg.num_hidden_layers * cfg.num_attention_heads + 1;
    case 'neuron':
      return req.to - req.from + 1;
    case 'module':
      return 3;
    case 'subspace':
      return 2;
  }
}

/** Throws PlanError when the request does not fit the model. */
export function checkRequest(cfg: ModelDescription, req: ModeRequest): void {
  const { L, I, D } = dims(cfg);
  if (req.kind === 'token' || req.kind === 'head_map') return;
  if (!(Number.isInteger(req.layer) && req.layer >= 0 && req.layer < L)) {
    throw new PlanError(`layer ${req.layer} is out of range: the model has layers 0-${L - 1}`);
  }
  if (req.kind === 'neuron' && !(Number.isInteger(req.from) && Number.isInteger(req.to) && 0 <= req.from && req.from < req.to && req.to <= I)) {
    throw new PlanError(`neurons ${req.from}-${req.to - 1} are out of range: the layer has ${I}`);
  }
  if (req.kind === 'subspace' && req.direction.length !== D) {
    throw new PlanError(`the direction has ${req.direction.length} numbers, not D = ${D}`);
  }
}

export function planPass(cfg: ModelDescription, T: number, req: ModeRequest, bosAtZero: boolean): PassPlan {
  checkRequest(cfg, req);
  const M = componentCount(cfg, T, req);
  const start = new Int32Array(M); // every component may be non-zero everywhere, but for token mode
  const enter = new Int32Array(M).fill(-1); // every component is present from the start, but for the one-pass head map
  let plan: PassPlan;
  switch (req.kind) {
    case 'token':
      // Component m holds token m's embedding: zero before position m. The rest starts empty and
      // only fills from biases and LayerNorm betas.
      for (let m = 0; m < T; m++) start[m] = m;
      start[T] = hasBiases(cfg) ? 0 : T;
      plan = { kind: 'token', M, rest: T, from: 0, startAtMlp: false, start, enter, bosRule: bosAtZero };
      break;
    case 'head':
      // The heads are layer l's attention output; its MLP reads them (sequential), so the pass
      // starts there. With a parallel residual that MLP read the layer's input, held by the rest.
      plan = cfg.parallelResidual
        ? { kind: 'head', M, rest: M - 1, from: req.layer + 1, startAtMlp: false, start, enter, bosRule: false }
        : { kind: 'head', M, rest: M - 1, from: req.layer, startAtMlp: true, start, enter, bosRule: false };
      break;
    case 'head_map': {
      // Every layer's heads in one pass: component 0 is the rest (the embeddings, then every
      // constant), head h of layer l is component 1 + l H + h. It joins as head mode at layer l
      // creates it: at the layer's attention output, or after the layer with a parallel residual
      // (that layer's MLP read the layer's input). What a head then carries through the later
      // layers is exactly what head mode at its layer gives it when the MLP rule is proportional
      // (linear in the components); under the softmax rule the later MLPs share among more
      // components (the earlier layers' heads beside the rest), so the scores differ somewhat.
      const H = cfg.num_attention_heads;
      for (let m = 1; m < M; m++) enter[m] = Math.floor((m - 1) / H);
      plan = { kind: 'head_map', M, rest: 0, from: 0, startAtMlp: false, start, enter, bosRule: false };
      break;
    }
    case 'neuron':
      plan = { kind: 'neuron', M, rest: M - 1, from: req.layer + 1, startAtMlp: false, start, enter, bosRule: false };
      break;
    case 'module':
      plan = { kind: 'module', M, rest: 0, from: req.layer + 1, startAtMlp: false, start, enter, bosRule: false };
      break;
    case 'subspace':
      plan = { kind: 'subspace', M, rest: 1, from: req.layer, startAtMlp: false, start, enter, bosRule: false };
      break;
  }
  // Where no component takes part in the MLP, the rest takes the whole activation, so it is not
  // zero from there on. Lowering its start before the first layer changes nothing earlier: its
  // rows there are zero and carry no bias (biases make the rest start at 0).
  for (let t = 0; t < T; t++) {
    if (!someoneTakesPart(plan, t)) {
      start[plan.rest] = Math.min(start[plan.rest], t);
      break;
    }
  }
  return plan;
}

/** Whether component m takes part in the MLP shares at position t. */
export function takesPart(plan: Pick<PassPlan, 'start' | 'bosRule'>, m: number, t: number): boolean {
  return plan.start[m] <= t && !(plan.bosRule && m === 0 && t > 0);
}

function someoneTakesPart(plan: PassPlan, t: number): boolean {
  for (let m = 0; m < plan.M; m++) if (takesPart(plan, m, t)) return true;
  return false;
}

export type Branch = 'attention' | 'mlp';

/**
 * How many components (a prefix of the M) are present in a branch of layer l: those that joined
 * before it. A component joining at layer e is present in e's MLP and in every later layer; with a
 * parallel residual (both branches read the layer's input) only from layer e + 1.
 */
export function present(plan: Pick<PassPlan, 'M' | 'enter'>, l: number, branch: Branch, parallelResidual: boolean): number {
  const last = branch === 'mlp' && !parallelResidual ? l : l - 1; // joined at a layer <= last
  let n = 0;
  while (n < plan.M && plan.enter[n]! <= last) n++;
  return n;
}

/** The components joining at layer l, [first, end) (empty when none). */
export function joining(plan: Pick<PassPlan, 'M' | 'enter'>, l: number): [number, number] {
  let first = 0;
  while (first < plan.M && plan.enter[first]! < l) first++;
  let end = first;
  while (end < plan.M && plan.enter[end] === l) end++;
  return [first, end];
}

/** How many of activeRows(plan, T) belong to the first `count` components (rows are in component order). */
export function rowsOf(plan: Pick<PassPlan, 'start'>, T: number, count: number): number {
  let n = 0;
  for (let m = 0; m < count; m++) n += Math.max(0, T - plan.start[m]!);
  return n;
}

/** Rows m * T + t of the components that can be non-zero (start[m] <= t), in order. */
export function activeRows(plan: PassPlan, T: number): Uint32Array {
  const rows: number[] = [];
  for (let m = 0; m < plan.M; m++) for (let t = plan.start[m]; t < T; t++) rows.push(m * T + t);
  return Uint32Array.from(rows);
}

/**
 * The read-out direction of each target: W_U[id] - W_U[contrast] (D floats each), [n, D].
 * `row(id)` returns row id of the unembedding in f32.
 */
export function targetDirections(row: (id: number) => Float32Array, D: number, targets: readonly TargetSpec[]): Float32Array {
  const out = new Float32Array(targets.length * D);
  targets.forEach((tg, i) => {
    const w = row(tg.id);
    const c = tg.contrast_id === null ? null : row(tg.contrast_id);
    for (let d = 0; d < D; d++) out[i * D + d] = c ? w[d] - c[d] : w[d];
  });
  return out;
}
