// The typed model description: what a checkpoint's config.json (or a llama2.c header) becomes
// once it is read. Nothing downstream reads raw config keys; family differences are the typed
// features below, never checks on model names.
//
// Notation used across the project: T tokens, D hidden_size, H query heads, Hkv key/value
// heads, dh head size, I intermediate_size, L layers, V vocabulary, M components.

export type Family = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'gpt2';

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
  rope_theta: number;

  /** Biases on q, k and v projections (Qwen2, GPT-2, Llama with attention_bias). */
  hasQkvBias: boolean;
  /** Bias on the attention output projection (GPT-2, Llama with attention_bias). */
  hasOBias: boolean;
  /** Biases on the MLP projections (GPT-2, Llama with mlp_bias). */
  hasMlpBias: boolean;
  /** Per-head RMSNorm on q and k before RoPE (Qwen3). */
  hasQkNorm: boolean;

  tie_word_embeddings: boolean;
  bos_token_id: number | null;
  /** Tokens that end generation (eos, and for llama2.c models also BOS). */
  eos_token_ids: number[];
  /** The dominant dtype of the weights (what the model card shows). */
  dtype: DType;
}

/** A weight tensor in its file dtype. Matrices are row-major [out, in] after import. */
export interface Tensor {
  name: string;
  dtype: DType;
  shape: number[];
  /** Little-endian raw elements, exactly shape.product * bytesPerElement(dtype) bytes. */
  bytes: Uint8Array;
}

export interface Linear {
  weight: Tensor; // [out, in]
  bias?: Tensor; // [out]
}

export interface Norm {
  weight: Tensor; // [n]
  bias?: Tensor; // [n], LayerNorm only
}

/** One decoder layer, in Hugging Face Llama naming. GPT-2 weights are converted on import. */
export interface LayerWeights {
  input_layernorm: Norm; // [D]
  q_proj: Linear; // [H*dh, D]
  k_proj: Linear; // [Hkv*dh, D]
  v_proj: Linear; // [Hkv*dh, D]
  o_proj: Linear; // [D, H*dh]
  q_norm?: Norm; // [dh], Qwen3
  k_norm?: Norm; // [dh], Qwen3
  post_attention_layernorm: Norm; // [D]
  gate_proj?: Linear; // [I, D], gated MLPs only
  up_proj: Linear; // [I, D] (GPT-2: c_fc)
  down_proj: Linear; // [D, I] (GPT-2: c_proj of the MLP)
}

export interface ModelWeights {
  embed_tokens: Tensor; // [V, D]
  embed_positions?: Tensor; // [P, D], learned positions only
  layers: LayerWeights[];
  norm: Norm; // final norm, [D]
  lm_head: Tensor; // [V, D]; the same object as embed_tokens when tied
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

export function bytesPerElement(dtype: DType): number {
  return dtype === 'F32' ? 4 : 2;
}
