// GPU memory planning: the named buffers a forward pass over T tokens and a decomposed pass with M
// components allocate, listed once here. The estimate sums these lists and the engine allocates
// exactly them (allocate()), so the two cannot drift. Checked against the device's binding
// limits and the engine's budget before anything is allocated, so an oversized request is refused
// with a message saying what to reduce instead of failing inside WebGPU.

import type { ModeRequest } from '../depass/backend';
import { componentCount } from '../depass/plan';
import { dims, type ModelDescription } from '../model/description';
import { createStorage } from './buffers';

export interface BufferPlan {
  /** What the buffer holds, with its shape (for messages). */
  what: string;
  bytes: number;
  /** How many such buffers (L for the per-layer records). */
  count: number;
}

/** Named buffers of one part of a pass; `allocate` makes one GPUBuffer per name. */
export type Layout<K extends string> = Record<K, BufferPlan>;

export interface MemoryEstimate {
  T: number;
  /** Components of the decomposed pass (0 when only the forward pass is estimated). */
  M: number;
  /** Neurons per MLP tile of the decomposed pass. */
  neuronTile: number;
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

const plan = (what: string, bytes: number, count = 1): BufferPlan => ({ what, bytes, count });

/** Vocabulary rows per logits chunk for T positions. */
export function vocabChunk(cfg: ModelDescription, T: number, maxBinding: number): number {
  const bytes = Math.min(LOGITS_CHUNK_BYTES, maxBinding);
  return Math.max(1, Math.min(cfg.vocab_size, Math.floor(bytes / (T * F32))));
}

/** One layer's forward record (kept for the decomposed pass), for R rows and A of `heads` heads. */
export function layerRecordLayout(cfg: ModelDescription, T: number, count = 1, copies = 1) {
  const { D, H, Hkv, dh, I } = dims(cfg);
  const R = T * copies;
  const layerNorm = cfg.normKind === 'layer';
  return {
    h_in: plan(`residual h_in [T, D]`, R * D * F32, count),
    h_mid: plan(`residual h_mid [T, D]`, R * D * F32, count),
    attn_out: plan(`attention output [T, D]`, R * D * F32, count),
    mlp_out: plan(`MLP output [T, D]`, R * D * F32, count),
    v: plan(`values v [T, Hkv*dh]`, R * Hkv * dh * F32, count),
    A: plan(`attention probabilities A [H, T, T]`, copies * H * T * T * F32, count),
    act: plan(`activations a [T, I]`, R * I * F32, count),
    attn_scale: plan(`norm scales [T]`, R * F32, count),
    attn_mean: plan(`norm means [T]`, layerNorm ? R * F32 : 0, count),
    mlp_scale: plan(`norm scales [T]`, R * F32, count),
    mlp_mean: plan(`norm means [T]`, layerNorm ? R * F32 : 0, count),
    // The output norms' frozen scales (post-norm families only).
    attn_out_scale: plan(`norm scales [T]`, cfg.hasPostNorms ? R * F32 : 0, count),
    mlp_out_scale: plan(`norm scales [T]`, cfg.hasPostNorms ? R * F32 : 0, count),
  } satisfies Layout<string>;
}

/** Scratch of the forward layer step, reused by every layer. */
export function forwardScratchLayout(cfg: ModelDescription, T: number, copies = 1) {
  const { D, H, Hkv, dh, I } = dims(cfg);
  const R = T * copies;
  return {
    x: plan('normalised state x [T, D]', R * D * F32),
    q: plan('queries [T, H*dh]', R * H * dh * F32),
    k: plan('keys [T, Hkv*dh]', R * Hkv * dh * F32),
    y: plan('attention output per head [T, H*dh]', R * H * dh * F32),
    gate: plan('gate [T, I]', R * I * F32),
    up: plan('up [T, I]', R * I * F32),
    // A branch's raw output before its output norm (post-norm families only).
    raw: plan('branch output before its norm [T, D]', cfg.hasPostNorms ? R * D * F32 : 0),
  } satisfies Layout<string>;
}

/** The final state, its norm statistics, the logits chunk and the top-k candidates. */
export function forwardFinalLayout(cfg: ModelDescription, T: number, maxBinding: number, lens: boolean) {
  const { D, L, V } = dims(cfg);
  const Vc = vocabChunk(cfg, T, maxBinding);
  const slots = Math.ceil(V / Vc) * TOP_K;
  const layerNorm = cfg.normKind === 'layer';
  return {
    h_final: plan('final state [T, D]', T * D * F32),
    final_scale: plan('norm scales [T]', T * F32),
    final_mean: plan('norm means [T]', layerNorm ? T * F32 : 0),
    logits: plan(`logits chunk [T, ${Vc}]`, T * Vc * F32),
    top_ids: plan('top-k candidates [T, slots]', T * slots * F32),
    top_vals: plan('top-k candidates [T, slots]', T * slots * F32),
    lens_ids: plan('logit lens candidates [L, T, slots]', lens ? L * T * slots * F32 : 0),
    lens_vals: plan('logit lens candidates [L, T, slots]', lens ? L * T * slots * F32 : 0),
    lens_scale: plan('norm scales [T]', lens ? T * F32 : 0),
    lens_mean: plan('norm means [T]', lens && layerNorm ? T * F32 : 0),
  } satisfies Layout<string>;
}

/** Buffers of a decomposed pass of M components, MLP tiles of J neurons, n targets. */
export function decomposedLayout(cfg: ModelDescription, T: number, M: number, J: number, n = 0, byLayer = false) {
  const { D, H, Hkv, dh, L } = dims(cfg);
  const rows = M * T;
  return {
    C: plan(`components C [M=${M}, T=${T}, D]`, rows * D * F32),
    X: plan(`normalised components [M=${M}, T=${T}, D]`, rows * D * F32),
    bufA: plan(`values / gate tile [M=${M}, T=${T}, max(Hkv*dh, ${J})]`, rows * Math.max(Hkv * dh, J) * F32),
    bufB: plan(`head outputs / shares [M=${M}, T=${T}, max(H*dh, ${J})]`, rows * Math.max(H * dh, J) * F32),
    rows: plan(`row map [M*T]`, rows * F32),
    // A branch's component writes before its output norm, or the attention's writes held back
    // while a parallel MLP reads the layer's input (those families only).
    O: plan(`branch writes [M=${M}, T=${T}, D]`, cfg.hasPostNorms || cfg.parallelResidual ? rows * D * F32 : 0),
    out: plan('scores [targets, M]', n * M * F32),
    by_layer: plan('scores per layer [targets, L, M]', byLayer ? n * L * M * F32 : 0),
  } satisfies Layout<string>;
}

const total = (l: Layout<string>) => Object.values(l).reduce((s, p) => s + p.bytes * p.count, 0);

/** Every buffer of a forward pass over T tokens. */
export function forwardBuffers(cfg: ModelDescription, T: number, maxBinding: number, lens = false): BufferPlan[] {
  return [
    ...Object.values(layerRecordLayout(cfg, T, cfg.num_hidden_layers)),
    ...Object.values(forwardScratchLayout(cfg, T)),
    ...Object.values(forwardFinalLayout(cfg, T, maxBinding, lens)),
  ].filter((p) => p.bytes > 0);
}

/**
 * Neurons per MLP tile for M components over T positions (0 when not even one fits): the gate
 * and share tiles [M, T, J] must each fit one binding and, with `spare` bytes of the budget left
 * after everything else, both fit there too.
 */
export function neuronTile(cfg: ModelDescription, T: number, M: number, maxBinding: number, preferred = DEFAULT_NEURON_TILE, spare = Infinity): number {
  const rowBytes = M * T * F32;
  let J = Math.min(cfg.intermediate_size, preferred, Math.floor(maxBinding / rowBytes), Math.floor(spare / (2 * rowBytes)));
  if (J >= 8) J -= J % 4; // whole vec4s for the down projection's K = J
  return Math.max(0, J);
}

export function estimateMemory(
  cfg: ModelDescription,
  T: number,
  req: ModeRequest | null,
  opts: { maxStorageBufferBindingSize?: number; budget?: number; lens?: boolean; neuronTile?: number } = {},
): MemoryEstimate {
  const maxBinding = opts.maxStorageBufferBindingSize ?? 128 * 1024 * 1024;
  const fwd = forwardBuffers(cfg, T, maxBinding, opts.lens);
  const forward = fwd.reduce((s, p) => s + p.bytes * p.count, 0);
  const M = req ? componentCount(cfg, T, req) : 0;
  let J = 0;
  let dec: BufferPlan[] = [];
  if (M) {
    // What the two tiles may take: the budget less the forward pass, C, its normalised copy and the row map.
    const fixed = M * T * F32 * (2 * cfg.hidden_size + 1);
    const spare = (opts.budget ?? Infinity) - forward - fixed;
    J = neuronTile(cfg, T, M, maxBinding, opts.neuronTile, spare);
    dec = Object.values(decomposedLayout(cfg, T, M, Math.max(J, 1))).filter((p) => p.bytes > 0);
  }
  const buffers = [...fwd, ...dec];
  const largest = buffers.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const decomposed = dec.reduce((s, p) => s + p.bytes * p.count, 0);
  return { T, M, neuronTile: J, forward, decomposed, activations: forward + decomposed, buffers, largest };
}

const MiB = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

/** Throws GpuMemoryError when the estimate does not fit; the message says what to reduce. */
export function checkMemory(est: MemoryEstimate, limits: MemoryLimits, req: ModeRequest | null): void {
  const maxOne = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const advice = (b: BufferPlan) =>
    /components|shares|gate tile|row map/.test(b.what)
      ? req?.kind === 'neuron'
        ? 'a smaller neuron group or fewer tokens'
        : req?.kind === 'token'
          ? 'fewer tokens (token mode holds one component per token)'
          : req?.kind === 'head_map'
            ? 'fewer tokens, or the head map one pass per layer'
            : 'fewer tokens'
      : 'fewer tokens';
  if (est.M > 0 && est.neuronTile < 1) {
    throw new GpuMemoryError(
      `${est.M} components over ${est.T} tokens do not leave room for even one MLP neuron per tile within one GPU binding (${MiB(maxOne)}); use ${advice(est.buffers[est.buffers.length - 1]!)}`,
    );
  }
  for (const b of est.buffers) {
    if (b.bytes > maxOne) {
      throw new GpuMemoryError(`${b.what} needs ${MiB(b.bytes)} in one buffer, more than this GPU binds (${MiB(maxOne)}); use ${advice(b)}`);
    }
  }
  if (est.activations > limits.budget) {
    const big = [...est.buffers].sort((a, b) => b.bytes * b.count - a.bytes * a.count)[0]!;
    throw new GpuMemoryError(
      `this run needs ${MiB(est.activations)} of GPU memory (forward ${MiB(est.forward)}, decomposed ${MiB(est.decomposed)}), over the budget of ${MiB(limits.budget)}; the largest part is ${big.what}; use ${advice(big)}`,
    );
  }
}

/** The most components one decomposed pass may hold for T tokens within the limits (at least 2). */
export function maxComponentsFor(cfg: ModelDescription, T: number, limits: MemoryLimits, lens = false): number {
  const maxOne = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const { D, H, Hkv, dh, I } = dims(cfg);
  const Jref = Math.min(I, 64);
  const widest = Math.max(D, H * dh, Hkv * dh, Jref);
  const byBinding = Math.floor(maxOne / (T * widest * F32));
  const forward = forwardBuffers(cfg, T, limits.maxStorageBufferBindingSize, lens).reduce((s, p) => s + p.bytes * p.count, 0);
  const perComponent = total(decomposedLayout(cfg, T, 1, Jref)); // bytes of one component
  const byBudget = Math.floor((limits.budget - forward) / perComponent);
  return Math.max(2, Math.min(byBinding, byBudget));
}

/**
 * Allocates one labelled buffer per name of `layout` (a zero-byte entry gets a placeholder), inside
 * an out-of-memory error scope; every buffer is also pushed to `list` for freeing.
 */
export async function allocate<K extends string>(device: GPUDevice, layout: Layout<K>, list: GPUBuffer[], prefix: string): Promise<Record<K, GPUBuffer>> {
  device.pushErrorScope('out-of-memory');
  const out = {} as Record<K, GPUBuffer>;
  for (const name of Object.keys(layout) as K[]) {
    const b = createStorage(device, `${prefix}${name}`, layout[name].bytes);
    list.push(b);
    out[name] = b;
  }
  const oom = await device.popErrorScope();
  if (oom) {
    for (const b of list) b.destroy();
    list.length = 0;
    throw new GpuMemoryError(`GPU out of memory allocating ${prefix.trim() || 'buffers'}: ${oom.message}; use fewer tokens`);
  }
  return out;
}
