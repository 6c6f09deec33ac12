// The typed model description: what a checkpoint's config.json (or a llama2.c header) becomes
// once it is read. Nothing downstream reads raw config keys; family differences are the typed
// features below, never checks on model names.
//
// Notation used across the project: T tokens, D hidden_size, H query heads, Hkv key/value
// heads, dh head size, I intermediate_size, L layers, V vocabulary, M components.

export type Family = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'gpt2' | 'gpt_neox' | 'gpt_neo' | 'gemma' | 'gemma2' | 'gemma3_text' | 'olmo2' | 'phi3';

/** Rotary position embedding: the frequencies of the first `dim` dims of each head (rotate-half pairs). */
export interface RopeSpec {
  theta: number;
  /** Rotated dims per head, even, at most head_dim (partial rotary: GPT-NeoX rotary_pct, Phi partial_rotary_factor). */
  dim: number;
  /** The base of the sliding-window layers when it differs (Gemma 3's local layers). */
  local_theta: number | null;
  scaling: RopeScaling;
}

export type RopeScaling =
  | { kind: 'none' }
  /** Every frequency divided by `factor` (position interpolation). */
  | { kind: 'linear'; factor: number }
  /** Llama 3.1's frequency-dependent interpolation. */
  | { kind: 'llama3'; factor: number; low_freq_factor: number; high_freq_factor: number; original_max_position_embeddings: number }
  /** Phi-3's per-frequency factors, short below the original context and long beyond it, and a magnitude. */
  | { kind: 'longrope'; short_factor: number[]; long_factor: number[]; original_max_position_embeddings: number; attention_factor: number };

/** Element type of a weight tensor as stored in the file. Activations are always f32. */
export type DType = 'F32' | 'F16' | 'BF16';

export interface ModelDescription {
  /** Display name (folder or file name, or `_name_or_path`). */
  name: string;
  family: Family;
  vocab_size: number; // V
  hidden_size: number; // D
  num_hidden_layers: number; // L
  num_attention_heads: number; // H
  num_key_value_heads: number; // Hkv (H for plain multi-head attention)
  head_dim: number; // dh (config `head_dim` when present, else D / H)
  intermediate_size: number; // I
  max_position_embeddings: number;

  /** 'rms': RMSNorm gamma * x / rms(x). 'layer': LayerNorm with gamma and beta. */
  normKind: 'rms' | 'layer';
  norm_eps: number;
  /** 'gated': down(act(gate(x)) * up(x)). 'plain': proj(act(fc(x))) (GPT-2). */
  mlpKind: 'gated' | 'plain';
  /** 'silu' (Llama family), 'gelu_tanh' (GPT-2 gelu_new, gelu_pytorch_tanh), 'gelu' (erf). */
  hidden_act: 'silu' | 'gelu_tanh' | 'gelu';
  /** 'rope': rotate-half RoPE on q and k (Hugging Face convention). 'learned': GPT-2 wpe. */
  positionKind: 'rope' | 'learned';
  /** RoPE frequencies; null for learned positions. */
  rope: RopeSpec | null;
  /** Multiplier of the token embeddings: 1, or sqrt(hidden_size) in the embedding's dtype (Gemma). */
  embedding_scale: number;

  /** Per layer: plain causal attention, or a sliding window of `sliding_window` keys (counting the query). */
  layer_types: ('full' | 'sliding')[];
  sliding_window: number | null;
  /** Multiplier of q . k: 1/sqrt(head_dim) usually, 1/sqrt(query_pre_attn_scalar) (Gemma 2, 3), 1 (GPT-Neo). */
  attention_scale: number;
  /** Attention scores capped as c * tanh(s / c) before the softmax (Gemma 2); null: none. */
  attn_logit_softcapping: number | null;
  /** Logits capped as c * tanh(z / c) (Gemma 2). Attribution explains the pre-cap logit z. */
  final_logit_softcapping: number | null;

  /** Biases on q, k and v projections (Qwen2, GPT-2, Llama with attention_bias). */
  hasQkvBias: boolean;
  /** Bias on the attention output projection (GPT-2, Llama with attention_bias). */
  hasOBias: boolean;
  /** Biases on the MLP projections (GPT-2, Llama with mlp_bias). */
  hasMlpBias: boolean;
  /** RMSNorm on q and k before RoPE: per head over head_dim (Qwen3, Gemma 3), or over the whole projection (OLMo-2). */
  qkNorm: 'none' | 'head' | 'projection';
  /** Norms before attention and MLP (all but OLMo-2). */
  hasPreNorms: boolean;
  /** Norms on the attention and MLP outputs before they join the residual (Gemma 2, 3, OLMo-2). */
  hasPostNorms: boolean;
  /** Attention and MLP both read the layer's input (GPT-NeoX use_parallel_residual). */
  parallelResidual: boolean;

  tie_word_embeddings: boolean;
  bos_token_id: number | null;
  /** Tokens that end generation (eos, and for llama2.c models also BOS). */
  eos_token_ids: number[];
  /** The dominant dtype of the weights (what the model card shows). */
  dtype: DType;
}

/** A weight tensor in its file dtype, held in memory. Matrices are row-major [out, in] after import. */
export interface Tensor {
  name: string;
  dtype: DType;
  shape: number[];
  /** Little-endian raw elements, exactly shape.product * bytesPerElement(dtype) bytes. */
  bytes: Uint8Array;
}

/**
 * A weight tensor left where it is (a slice of the file the user gave, through any rearrangement
 * its family needs), read on demand: whole, or a byte range at a time so that a large checkpoint
 * reaches the GPU without passing through memory whole.
 */
export interface StoredTensor {
  name: string;
  dtype: DType;
  shape: number[];
  byteLength: number;
  /** Bytes [offset, offset + length) of the elements as the engines see them (default: all). */
  read(offset?: number, length?: number): Promise<Uint8Array<ArrayBuffer>>;
}

/** A weight, in memory or stored. */
export type Weight = Tensor | StoredTensor;

export interface Linear<T extends Weight = Tensor> {
  weight: T; // [out, in]
  bias?: T; // [out]
}

export interface Norm<T extends Weight = Tensor> {
  weight: T; // [n]
  bias?: T; // [n], LayerNorm only
}

/**
 * One decoder layer, in Hugging Face Llama naming: `input_layernorm` before attention,
 * `post_attention_layernorm` before the MLP (absent without pre-norms), and the output norms of
 * families with post-norms. Other families' weights are converted on import (fused projections
 * split, Conv1D transposed, Gemma's (1 + w) norms made plain).
 */
export interface LayerWeights<T extends Weight = Tensor> {
  input_layernorm?: Norm<T>; // [D]
  q_proj: Linear<T>; // [H*dh, D]
  k_proj: Linear<T>; // [Hkv*dh, D]
  v_proj: Linear<T>; // [Hkv*dh, D]
  o_proj: Linear<T>; // [D, H*dh]
  q_norm?: Norm<T>; // [dh] per head (Qwen3, Gemma 3), [H*dh] over the projection (OLMo-2)
  k_norm?: Norm<T>; // [dh] or [Hkv*dh]
  attn_output_norm?: Norm<T>; // [D] on the attention's output (Gemma 2/3 post_attention_layernorm, OLMo-2)
  post_attention_layernorm?: Norm<T>; // [D] before the MLP (Gemma 2/3 pre_feedforward_layernorm)
  mlp_output_norm?: Norm<T>; // [D] on the MLP's output (post_feedforward_layernorm)
  gate_proj?: Linear<T>; // [I, D], gated MLPs only
  up_proj: Linear<T>; // [I, D] (GPT-2: c_fc)
  down_proj: Linear<T>; // [D, I] (GPT-2: c_proj of the MLP)
}

export interface ModelWeights<T extends Weight = Tensor> {
  embed_tokens: T; // [V, D]
  embed_positions?: T; // [P, D], learned positions only
  layers: LayerWeights<T>[];
  norm: Norm<T>; // final norm, [D]
  lm_head: T; // [V, D]; the same object as embed_tokens when tied
}

/** Elements of a weight's shape. */
export function elementCount(t: Weight): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

/** The model's sizes in the project's notation (see the top of this file). */
export interface Dims {
  D: number;
  H: number;
  Hkv: number;
  dh: number;
  I: number;
  L: number;
  V: number;
}

export function dims(cfg: ModelDescription): Dims {
  return {
    D: cfg.hidden_size,
    H: cfg.num_attention_heads,
    Hkv: cfg.num_key_value_heads,
    dh: cfg.head_dim,
    I: cfg.intermediate_size,
    L: cfg.num_hidden_layers,
    V: cfg.vocab_size,
  };
}

/** The features every pre-norm RoPE decoder without extras shares (Llama 2, llama2.c models). */
export function plainRopeFeatures(
  L: number,
  dh: number,
  theta: number,
): Pick<
  ModelDescription,
  | 'positionKind'
  | 'rope'
  | 'embedding_scale'
  | 'layer_types'
  | 'sliding_window'
  | 'attention_scale'
  | 'attn_logit_softcapping'
  | 'final_logit_softcapping'
  | 'qkNorm'
  | 'hasPreNorms'
  | 'hasPostNorms'
  | 'parallelResidual'
> {
  return {
    positionKind: 'rope',
    rope: { theta, dim: dh, local_theta: null, scaling: { kind: 'none' } },
    embedding_scale: 1,
    layer_types: Array.from({ length: L }, () => 'full'),
    sliding_window: null,
    attention_scale: 1 / Math.sqrt(dh),
    attn_logit_softcapping: null,
    final_logit_softcapping: null,
    qkNorm: 'none',
    hasPreNorms: true,
    hasPostNorms: false,
    parallelResidual: false,
  };
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'F32' ? 4 : 2;
}
