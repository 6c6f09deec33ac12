// What the normal forward pass records for the decomposed pass: one typed record per layer, the
// same names on every backend. Generic over where the numbers live: Float32Array in the
// TypeScript reference, GPUBuffer in the WebGPU engine.

/** A frozen normalisation of the real state: x = gamma * (h - mean) * scale (+ beta). */
export interface NormRecord<B> {
  scale: B; // [T] 1/rms(h) or 1/std(h) of the real hidden state
  mean?: B; // [T] LayerNorm only
}

/** What one layer's forward pass leaves behind. */
export interface LayerRecord<B> {
  h_in: B; // [T, D] residual entering the layer
  attn_norm: NormRecord<B>;
  v: B; // [T, Hkv*dh] values of the real state, biases included
  A: B; // [H, T, T] attention probabilities (after RoPE, mask, softmax)
  attn_out: B; // [T, D] attention's write to the residual, biases included (after its output norm)
  /** Post-norm families: the frozen scale of the attention's raw output (1/rms). */
  attn_out_norm?: NormRecord<B>;
  h_mid: B; // [T, D] h_in + attn_out (the MLP's input, except with a parallel residual: h_in)
  mlp_norm: NormRecord<B>; // of the MLP's input
  act: B; // [T, I] a = act(gate) * up, or act(fc)
  mlp_out: B; // [T, D] the MLP's write, bias included (after its output norm)
  mlp_out_norm?: NormRecord<B>;
}

export interface ForwardRecord<B> {
  T: number;
  ids: number[];
  layers: LayerRecord<B>[];
  h_final: B; // [T, D] residual after the last layer
  final_norm: NormRecord<B>;
}

/** Heads or neurons whose write is zeroed (for ablation checks). */
export interface Ablation {
  heads?: { layer: number; head: number }[];
  neurons?: { layer: number; neuron: number }[];
}

/** The residual after layer l: the next layer's input, or the final state after the last. */
export function residualAfter<B>(rec: ForwardRecord<B>, l: number): B {
  return l + 1 < rec.layers.length ? rec.layers[l + 1]!.h_in : rec.h_final;
}

/** The norm statistics of the residual after layer l (what reads it next). */
export function normAfter<B>(rec: ForwardRecord<B>, l: number): NormRecord<B> {
  return l + 1 < rec.layers.length ? rec.layers[l + 1]!.attn_norm : rec.final_norm;
}
