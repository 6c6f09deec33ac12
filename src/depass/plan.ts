// The plan of one decomposed pass: how many components a granularity starts with, which one is
// the rest, the layer the pass starts at (and whether at that layer's MLP), the first position at
// which each component can be non-zero, and the BOS rule. Every backend and the GPU memory
// estimate take it from here, so they cannot disagree on what a mode means.

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
  if (req.kind === 'token') return;
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
  let plan: PassPlan;
  switch (req.kind) {
    case 'token':
      // Component m holds token m's embedding: zero before position m. The rest starts empty and
      // only fills from biases and LayerNorm betas.
      for (let m = 0; m < T; m++) start[m] = m;
      start[T] = hasBiases(cfg) ? 0 : T;
      plan = { kind: 'token', M, rest: T, from: 0, startAtMlp: false, start, bosRule: bosAtZero };
      break;
    case 'head':
      // The heads are layer l's attention output; its MLP reads them (sequential), so the pass
      // starts there. With a parallel residual that MLP read the layer's input, held by the rest.
      plan = cfg.parallelResidual
        ? { kind: 'head', M, rest: M - 1, from: req.layer + 1, startAtMlp: false, start, bosRule: false }
        : { kind: 'head', M, rest: M - 1, from: req.layer, startAtMlp: true, start, bosRule: false };
      break;
    case 'neuron':
      plan = { kind: 'neuron', M, rest: M - 1, from: req.layer + 1, startAtMlp: false, start, bosRule: false };
      break;
    case 'module':
      plan = { kind: 'module', M, rest: 0, from: req.layer + 1, startAtMlp: false, start, bosRule: false };
      break;
    case 'subspace':
      plan = { kind: 'subspace', M, rest: 1, from: req.layer, startAtMlp: false, start, bosRule: false };
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
