// Analytic floating-point operation counts (a multiply-add is 2) of what the benchmark times:
// the normal forward pass, the decomposed passes of each granularity as the engine runs them, and
// neuron ablation. Matrix products and attention (scores and mixing, causal) only; norms,
// activations, softmax and the MLP sharing rule are elementwise and not counted.

import type { ModelDescription } from '../src/model/description';

/** Matrix-product FLOPs of one layer per row of the real state: q, k, v, o, gate, up, down. */
export function forwardRowFlops(cfg: ModelDescription): number {
  const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh, intermediate_size: I } = cfg;
  const mlpIn = cfg.mlpKind === 'gated' ? 2 : 1;
  return 2 * D * (H * dh + 2 * Hkv * dh) + 2 * H * dh * D + 2 * mlpIn * D * I + 2 * I * D;
}

/** Matrix-product FLOPs of one decomposed layer per component row: v, o, gate (or fc), down. */
export function decomposedRowFlops(cfg: ModelDescription): number {
  const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh, intermediate_size: I } = cfg;
  return 2 * D * Hkv * dh + 2 * H * dh * D + 2 * D * I + 2 * I * D;
}

/** Decomposed MLP only (gate or fc, down) per component row: the layer a head-mode pass starts in. */
function decomposedMlpRowFlops(cfg: ModelDescription): number {
  return 4 * cfg.hidden_size * cfg.intermediate_size;
}

/** Causal attention of one sequence of T positions (scores q.k, or mixing A v), all heads. */
function causal(cfg: ModelDescription, T: number): number {
  return cfg.num_attention_heads * cfg.head_dim * T * (T + 1); // 2 dh per (head, q, k <= q)
}

export interface ForwardFlops {
  layers: number;
  attention: number;
  unembed: number;
  total: number;
}

/** The engine's forward pass over T tokens: every layer and the logits of every position. */
export function forwardFlops(cfg: ModelDescription, T: number): ForwardFlops {
  const L = cfg.num_hidden_layers;
  const layers = L * T * forwardRowFlops(cfg);
  const attention = L * 2 * causal(cfg, T);
  const unembed = 2 * T * cfg.hidden_size * cfg.vocab_size;
  return { layers, attention, unembed, total: layers + attention + unembed };
}

function hasBiasRest(cfg: ModelDescription): boolean {
  return cfg.hasQkvBias || cfg.hasOBias || cfg.hasMlpBias || cfg.normKind === 'layer';
}

/** FLOPs of a decomposed pass by the kernels that do them (matmul, attention mixing, read-out). */
export interface PassFlops {
  matmul: number;
  attention: number;
  readout: number;
  total: number;
}

function pass(matmul: number, attention: number, readout: number): PassFlops {
  return { matmul, attention, readout, total: matmul + attention + readout };
}

/** Token mode: component m starts at position m (the triangle), the rest only when biases fill it. */
export function tokenModeFlops(cfg: ModelDescription, T: number, targets = 1): PassFlops & { rows: number } {
  const L = cfg.num_hidden_layers;
  const rest = hasBiasRest(cfg);
  const rows = (T * (T + 1)) / 2 + (rest ? T : 0);
  // Mixing of component m over positions m..T-1: sum over u = T - m of H dh u (u + 1).
  const mixing = cfg.num_attention_heads * cfg.head_dim * ((T * (T + 1) * (T + 2)) / 3) + (rest ? causal(cfg, T) : 0);
  const M = T + 1;
  return { rows, ...pass(L * rows * decomposedRowFlops(cfg), L * mixing, 2 * M * targets * cfg.hidden_size) };
}

/** Head mode at layer l: H head writes built at l, their MLP at l, then full decomposed layers. */
export function headModeFlops(cfg: ModelDescription, T: number, l: number, targets = 1): PassFlops {
  const { hidden_size: D, num_attention_heads: H, head_dim: dh, num_hidden_layers: L } = cfg;
  const M = H + 1;
  const after = L - 1 - l;
  // Build: A v of the real values, each head's Wo slice, the rest's subtraction.
  const matmul = 2 * T * H * dh * D * 2 + M * T * decomposedMlpRowFlops(cfg) + after * M * T * decomposedRowFlops(cfg);
  return pass(matmul, causal(cfg, T) + after * M * causal(cfg, T), 2 * M * targets * D);
}

/** The whole head map: one head-mode pass per layer (what runDepass does for mode 'head'). */
export function headMapFlops(cfg: ModelDescription, T: number, targets = 1): PassFlops {
  const s = pass(0, 0, 0);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = headModeFlops(cfg, T, l, targets);
    s.matmul += p.matmul;
    s.attention += p.attention;
    s.readout += p.readout;
    s.total += p.total;
  }
  return s;
}

/**
 * The head map in one pass: the rest from layer 0 and head h of layer l joining at l's attention
 * output (after the layer with a parallel residual). At layer l the attention runs on the rest and
 * the heads of earlier layers, the MLP also on layer l's own heads (sequential residual); each
 * layer builds its heads as head mode does. One read-out of L H + 1 components.
 */
export function headMapOnePassFlops(cfg: ModelDescription, T: number, targets = 1): PassFlops {
  const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh, num_hidden_layers: L } = cfg;
  let matmul = 0;
  let attention = 0;
  for (let l = 0; l < L; l++) {
    const a = 1 + l * H; // components in layer l's attention
    const m = cfg.parallelResidual ? a : a + H; // ... and in its MLP
    matmul += a * T * (2 * D * Hkv * dh + 2 * H * dh * D) + m * T * decomposedMlpRowFlops(cfg) + 2 * T * H * dh * D * 2; // + the build
    attention += a * causal(cfg, T) + causal(cfg, T);
  }
  return pass(matmul, attention, 2 * (L * H + 1) * targets * D);
}

/** Neuron mode at layer l for neurons in groups of `group`: each group one pass from layer l + 1. */
export function neuronModeFlops(cfg: ModelDescription, T: number, l: number, group: number, targets = 1): PassFlops {
  const { hidden_size: D, intermediate_size: I, num_hidden_layers: L } = cfg;
  const s = pass(0, 0, 0);
  for (let from = 0; from < I; from += group) {
    const G = Math.min(group, I - from);
    const M = G + 1;
    s.matmul += 2 * T * D * G * 2 + (L - 1 - l) * M * T * decomposedRowFlops(cfg); // build: writes (K = 1 each), the rest's subtraction
    s.attention += (L - 1 - l) * M * causal(cfg, T);
    s.readout += 2 * M * targets * D;
  }
  s.total = s.matmul + s.attention + s.readout;
  return s;
}

/** Ablation of `neurons` neurons of layer l: the clean pass once, then per neuron layers l + 1.. and the target logits. */
export function ablationFlops(cfg: ModelDescription, T: number, l: number, neurons: number, targets = 1): { clean: number; perNeuron: number; total: number } {
  const { hidden_size: D, num_hidden_layers: L } = cfg;
  const layer = T * forwardRowFlops(cfg) + 2 * causal(cfg, T);
  const readout = 2 * targets * D;
  const clean = L * layer + readout;
  const perNeuron = 2 * T * D + (L - 1 - l) * layer + readout;
  return { clean, perNeuron, total: clean + neurons * perNeuron };
}
