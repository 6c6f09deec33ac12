// GPU memory planning: what a forward pass over T tokens and a decomposed pass with M components
// allocate, checked against the device's binding limits and the engine's memory budget before
// anything is allocated, so that an oversized request is refused with a message saying what to
// reduce instead of failing inside WebGPU.

import type { ModeRequest } from '../depass/backend';
import type { ModelDescription } from '../model/description';

export interface BufferPlan {
  name: string;
  bytes: number;
  /** How many such buffers (one per layer for the forward records). */
  count: number;
}

export interface MemoryEstimate {
  T: number;
  /** Components of the decomposed pass (0 when only the forward pass is estimated). */
  M: number;
  /** Neurons per MLP tile of the decomposed pass. */
  neuronTile: number;
  weights: number;
  forward: number;
  decomposed: number;
  /** forward + decomposed (weights are already resident when a run starts). */
  activations: number;
  buffers: BufferPlan[];
  largest: BufferPlan;
}

export interface MemoryLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** Bytes the engine may allocate for records, scratch and components. */
  budget: number;
}

export class GpuMemoryError extends Error {
  override readonly name = 'GpuMemoryError';
}

const F32 = 4;
/** Preferred neurons per MLP tile; fewer when M * T * tile would not fit one binding. */
export const DEFAULT_NEURON_TILE = 1024;
/** Logits of one vocabulary chunk are kept within this many bytes. */
export const LOGITS_CHUNK_BYTES = 64 * 1024 * 1024;
export const TOP_K = 5;

/** Number of components of a request, the rest included. */
export function componentsOf(cfg: ModelDescription, T: number, req: ModeRequest): number {
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

/** Vocabulary rows per logits chunk for T positions. */
export function vocabChunk(cfg: ModelDescription, T: number, maxBinding: number): number {
  const bytes = Math.min(LOGITS_CHUNK_BYTES, maxBinding);
  return Math.max(1, Math.min(cfg.vocab_size, Math.floor(bytes / (T * F32))));
}

export function forwardBuffers(cfg: ModelDescription, T: number, maxBinding: number, lens = false): BufferPlan[] {
  const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh, intermediate_size: I, num_hidden_layers: L } = cfg;
  const Vc = vocabChunk(cfg, T, maxBinding);
  const chunks = Math.ceil(cfg.vocab_size / Vc);
  const layerNorm = cfg.normKind === 'layer';
  return [
    { name: 'attention probabilities A [H, T, T]', bytes: H * T * T * F32, count: L },
    { name: 'activations a [T, I]', bytes: T * I * F32, count: L },
    { name: 'residual records h_in, h_mid, attn_out, mlp_out [T, D]', bytes: T * D * F32, count: 4 * L },
    { name: 'values v [T, Hkv*dh]', bytes: T * Hkv * dh * F32, count: L },
    { name: 'norm statistics [T]', bytes: T * F32, count: (layerNorm ? 4 : 2) * L + 2 },
    { name: 'final state and scratch x [T, D]', bytes: T * D * F32, count: 2 },
    { name: 'queries and attention output [T, H*dh]', bytes: T * H * dh * F32, count: 2 },
    { name: 'keys [T, Hkv*dh]', bytes: T * Hkv * dh * F32, count: 1 },
    { name: 'gate and up [T, I]', bytes: T * I * F32, count: 2 },
    { name: `logits chunk [T, ${Vc}]`, bytes: T * Vc * F32, count: 1 },
    { name: 'top-k candidates', bytes: T * chunks * TOP_K * 2 * F32, count: lens ? L + 1 : 1 },
  ];
}

/**
 * Neurons per MLP tile for M components over T positions (0 when not even one fits): the gate
 * and share tiles [M, T, J] must each fit one binding and, with `spare` bytes of the budget left
 * after everything else, both fit there too.
 */
export function neuronTile(
  cfg: ModelDescription,
  T: number,
  M: number,
  maxBinding: number,
  preferred = DEFAULT_NEURON_TILE,
  spare = Infinity,
): number {
  const rowBytes = M * T * F32;
  let J = Math.min(cfg.intermediate_size, preferred, Math.floor(maxBinding / rowBytes), Math.floor(spare / (2 * rowBytes)));
  if (J >= 8) J -= J % 4; // whole vec4s for the down projection's K = J
  return Math.max(0, J);
}

export function decomposedBuffers(cfg: ModelDescription, T: number, M: number, J: number): BufferPlan[] {
  const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh } = cfg;
  const rows = M * T;
  return [
    { name: `components C [M=${M}, T=${T}, D]`, bytes: rows * D * F32, count: 1 },
    { name: `normalised components [M=${M}, T=${T}, D]`, bytes: rows * D * F32, count: 1 },
    { name: `values / gate tile [M=${M}, T=${T}, max(Hkv*dh, ${J})]`, bytes: rows * Math.max(Hkv * dh, J) * F32, count: 1 },
    { name: `head outputs / shares [M=${M}, T=${T}, max(H*dh, ${J})]`, bytes: rows * Math.max(H * dh, J) * F32, count: 1 },
    { name: 'row map [M*T]', bytes: rows * F32, count: 1 },
  ];
}

export function estimateMemory(
  cfg: ModelDescription,
  T: number,
  req: ModeRequest | null,
  opts: { maxStorageBufferBindingSize?: number; budget?: number; weights?: number; lens?: boolean; neuronTile?: number } = {},
): MemoryEstimate {
  const maxBinding = opts.maxStorageBufferBindingSize ?? 128 * 1024 * 1024;
  const sum = (b: BufferPlan[]) => b.reduce((s, p) => s + p.bytes * p.count, 0);
  const fwd = forwardBuffers(cfg, T, maxBinding, opts.lens);
  const M = req ? componentsOf(cfg, T, req) : 0;
  let J = 0;
  if (M) {
    // What the two tiles may take: the budget less the forward pass, C, its normalised copy and the row map.
    const fixed = M * T * F32 * (2 * cfg.hidden_size + 1);
    const spare = (opts.budget ?? Infinity) - sum(fwd) - fixed;
    J = neuronTile(cfg, T, M, maxBinding, opts.neuronTile, spare);
  }
  const dec = M ? decomposedBuffers(cfg, T, M, Math.max(J, 1)) : [];
  const buffers = [...fwd, ...dec];
  const largest = buffers.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const forward = sum(fwd);
  const decomposed = sum(dec);
  return { T, M, neuronTile: J, weights: opts.weights ?? 0, forward, decomposed, activations: forward + decomposed, buffers, largest };
}

const MiB = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

/** Throws GpuMemoryError when the estimate does not fit; the message says what to reduce. */
export function checkMemory(est: MemoryEstimate, limits: MemoryLimits, req: ModeRequest | null): void {
  const maxOne = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const advice = (b: BufferPlan) =>
    /components|shares|gate tile|row map|normalised/.test(b.name)
      ? req?.kind === 'neuron'
        ? 'a smaller neuron group or fewer tokens'
        : req?.kind === 'token'
          ? 'fewer tokens (token mode holds one component per token)'
          : 'fewer tokens'
      : 'fewer tokens';
  if (est.M > 0 && est.neuronTile < 1) {
    throw new GpuMemoryError(
      `${est.M} components over ${est.T} tokens do not leave room for even one MLP neuron per tile within one GPU binding (${MiB(maxOne)}); use ${advice(est.buffers[est.buffers.length - 1]!)}`,
    );
  }
  for (const b of est.buffers) {
    if (b.bytes > maxOne) {
      throw new GpuMemoryError(`${b.name} needs ${MiB(b.bytes)} in one buffer, more than this GPU binds (${MiB(maxOne)}); use ${advice(b)}`);
    }
  }
  if (est.activations > limits.budget) {
    const big = [...est.buffers].sort((a, b) => b.bytes * b.count - a.bytes * a.count)[0]!;
    throw new GpuMemoryError(
      `this run needs ${MiB(est.activations)} of GPU memory (forward ${MiB(est.forward)}, decomposed ${MiB(est.decomposed)}), over the budget of ${MiB(limits.budget)}; the largest part is ${big.name}; use ${advice(big)}`,
    );
  }
}

/** The most components one decomposed pass may hold for T tokens within the limits (at least 2). */
export function maxComponentsFor(cfg: ModelDescription, T: number, limits: MemoryLimits, lens = false): number {
  const maxOne = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh, intermediate_size: I } = cfg;
  const Jref = Math.min(I, 64);
  const widest = Math.max(D, H * dh, Hkv * dh, Jref);
  const byBinding = Math.floor(maxOne / (T * widest * F32));
  const forward = forwardBuffers(cfg, T, limits.maxStorageBufferBindingSize, lens).reduce((s, p) => s + p.bytes * p.count, 0);
  const perComponent = T * F32 * (2 * D + Math.max(Hkv * dh, Jref) + Math.max(H * dh, Jref) + 1);
  const byBudget = Math.floor((limits.budget - forward) / perComponent);
  return Math.max(2, Math.min(byBinding, byBudget));
}
