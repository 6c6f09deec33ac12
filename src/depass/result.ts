// The result format, version 1 ("depass-result/1"): one JSON shape written by the CLI, exported
// by the app and carried by permalinks. Documented in docs/result-format.md. Arrays are indexed
// by target i (one per entry of `targets`), layer l, head h, source token s, neuron j.

export const RESULT_FORMAT = 'depass-result/1';

export type Rule = 'softmax' | 'proportional';
export type Mode = 'token' | 'head' | 'neuron' | 'module' | 'subspace';

export interface TopEntry {
  id: number;
  logit: number;
}

export interface ResultToken {
  id: number;
  text: string;
  start: number;
  end: number;
}

export interface ResultTarget {
  position: number;
  id: number;
  contrast_id: number | null;
  /** logit(id) at `position`, or logit(id) - logit(contrast_id). */
  logit: number;
}

export interface TokenAttribution {
  /** scores[i][s]: source token s's share of target i's logit; 0 for s after the target position. */
  scores: number[][];
  /** rest[i]: what no token owns (biases; 0 for bias-free models). */
  rest: number[];
  /**
   * by_layer[i][l][s]: the same read-out of the residual after layer l (through the final norm,
   * scaled by that layer's own RMS/std), i.e. a decomposed logit lens. Optional.
   */
  by_layer?: number[][][];
  /** rest_by_layer[i][l], pairs with by_layer. */
  rest_by_layer?: number[][];
}

export interface HeadAttribution {
  /** scores[i][l][h]: head h of layer l (head mode run at layer l). */
  scores: number[][][];
  /**
   * rest[i][l]: the residual entering layer l plus that layer's attention biases; in either form,
   * the target logit minus the scores of layer l's heads.
   */
  rest: number[][];
  /** Layers that were attributed (all layers by default). */
  layers: number[];
  /**
   * How the map was computed: absent for one head-mode pass per layer (the default), 'one-pass'
   * for every layer's heads in one pass (src/depass/plan.ts says how the two differ).
   */
  form?: HeadMapForm;
}

export type HeadMapForm = 'per-layer' | 'one-pass';

export interface NeuronAttribution {
  layer: number;
  /** scores[i][j] for every neuron j of the layer. */
  scores: number[][];
  rest: number[];
  /** Neurons per grouped pass (I when one pass held them all); grouping affects softmax shares. */
  group_size: number;
}

export interface ModuleAttribution {
  layer: number;
  /** scores[i][k], k indexing names; they sum to the logit. */
  scores: number[][];
  names: string[];
}

export interface SubspaceAttribution {
  layer: number;
  /** scores[i][k]: k = 0 the projection on the direction, k = 1 the orthogonal rest. */
  scores: number[][];
  names: string[];
}

export interface DepassResult {
  format: typeof RESULT_FORMAT;
  /**
   * final_logit_softcapping: the model reports c * tanh(z / c) (Gemma 2); targets' logits and the
   * scores explain z, the logit before the cap, while `predictions` show the capped logits.
   */
  model: { name: string; architecture: string; fingerprint: string; final_logit_softcapping?: number };
  prompt: string;
  rule: Rule;
  tokens: ResultToken[];
  /** One per position: the five highest next-token logits. */
  predictions: { top: TopEntry[] }[];
  targets: ResultTarget[];
  token?: TokenAttribution;
  head?: HeadAttribution;
  neuron?: NeuronAttribution;
  module?: ModuleAttribution;
  subspace?: SubspaceAttribution;
  /** Largest |sum of scores (+ rest) - logit| over every target and mode. */
  completeness: { max_abs_error: number };
  /** logit_lens[t][l]: top-5 tokens of the residual after layer l at position t. Optional. */
  logit_lens?: TopEntry[][][];
  engine?: { backend: 'cpu' | 'webgpu'; adapter?: string; tau: number; elapsed_ms?: number };
  /** The app's export of a text the model continued: positions from `first` on were generated. */
  generated?: { first: number; temperature: number; seed: number };
}
