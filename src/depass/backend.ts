// What an engine must offer for the attribution run to be assembled: a forward pass that keeps
// its frozen record, and a decomposed pass per granularity that returns each component's score
// per target. Implemented by the TypeScript reference (cpu-backend.ts) and the WebGPU engine
// (src/gpu). The granularity only chooses the initial components; the rest is one code path.

import type { Ablation } from './record';
import type { Rule, TopEntry } from './result';

export interface TargetSpec {
  position: number;
  id: number;
  contrast_id: number | null;
}

export type ModeRequest =
  /** One component per prompt token (component m = token m's embedding), plus the rest. */
  | { kind: 'token'; byLayer?: boolean }
  /** One component per head's output at `layer`, plus the rest (residual + attention biases). */
  | { kind: 'head'; layer: number }
  /**
   * Every layer's heads in one pass: head h of layer l joins at layer l's attention output (zero
   * before), the rest holds the embeddings and every constant. Not the per-layer map's numbers:
   * see plan.ts.
   */
  | { kind: 'head_map' }
  /** Neurons from..to-1 of `layer` (their writes), plus the rest of the state after the MLP. */
  | { kind: 'neuron'; layer: number; from: number; to: number }
  /** Incoming residual (also the rest), attention output and MLP output of `layer`. */
  | { kind: 'module'; layer: number }
  /** The residual entering `layer` split into its projection on `direction` and the rest. */
  | { kind: 'subspace'; layer: number; direction: Float32Array };

export interface ModeScores {
  /** Number of components, the rest included. */
  M: number;
  /** Index of the rest component among the M. */
  rest: number;
  scores: Float64Array; // [targets, M]
  /** Token mode with byLayer: the same read-out after every layer. */
  byLayer?: Float64Array; // [targets, L, M]
}

export interface ForwardSummary {
  T: number;
  /** Five highest next-token logits per position. */
  top: TopEntry[][]; // [T][5]
  /** Logit lens: five highest tokens of the residual after each layer. */
  lens?: TopEntry[][][]; // [T][L][5]
  /** logit(id) (minus logit(contrast)) at each target's position (before any final soft-cap). */
  targetLogits(targets: TargetSpec[]): Promise<number[]>;
}

export interface AttributeOptions {
  rule: Rule;
  tau: number;
  /** Position 0 holds the tokenizer's BOS special token (enables the BOS rule in token mode). */
  bosAtZero: boolean;
  onLayer?: (layer: number, of: number) => void;
  signal?: AbortSignal;
}

export interface AttributionBackend {
  readonly kind: 'cpu' | 'webgpu';
  /** Normal forward pass over the prompt; its frozen record backs every later attribute call. */
  forward(ids: number[], opts?: { lens?: boolean; ablation?: Ablation }): Promise<ForwardSummary>;
  attribute(req: ModeRequest, targets: TargetSpec[], opts: AttributeOptions): Promise<ModeScores>;
  /** The most components one decomposed pass may hold for T tokens (sizes neuron groups). */
  maxComponents(T: number): number;
  /** Row `id` of the unembedding, D floats (the default subspace direction). */
  unembeddingRow(id: number): Promise<Float32Array>;
  /** A[layer][head] of the last forward pass, [T, T] row-major (query, key). */
  attentionPattern(layer: number, head: number): Promise<Float32Array>;
  /**
   * The initial components a granularity starts its decomposed pass from, [M, T, D], read back
   * (for checks of where each bias and beta goes; a run never needs them).
   */
  initialComponents(req: ModeRequest): Promise<InitialComponents>;
  /** The k tokens each neuron's write promotes most: top-k of W_U Wdown[:, j], read from the weights. */
  neuronPromotes(layer: number, neurons: number[], k: number): Promise<NeuronPromotes[]>;
}

export interface NeuronPromotes {
  neuron: number;
  top: TopEntry[];
}

export interface InitialComponents {
  M: number;
  rest: number;
  data: Float32Array; // [M, T, D]
}

/** Component names of module mode; the incoming residual is also the rest. */
export const MODULE_NAMES = ['residual', 'attention', 'mlp'];
/** Component names of subspace mode; the orthogonal part is the rest. */
export const SUBSPACE_NAMES = ['projection', 'orthogonal'];
