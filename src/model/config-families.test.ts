// describeModel on the published configs of the GPT families and the newer families (keys as
// their model pages give them, trimmed of keys that do not matter), in the older config layout
// that published checkpoints use; the newer layout is covered by the fixtures' own configs
// (src/depass/families.test.ts).

import { describe, expect, it } from 'vitest';
import { describeModel } from './config';

const GPT2 = {
  activation_function: 'gelu_new',
  architectures: ['GPT2LMHeadModel'],
  attn_pdrop: 0.1,
  bos_token_id: 50256,
  embd_pdrop: 0.1,
  eos_token_id: 50256,
  initializer_range: 0.02,
  layer_norm_epsilon: 1e-5,
  model_type: 'gpt2',
  n_ctx: 1024,
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_positions: 1024,
  resid_pdrop: 0.1,
  summary_activation: null,
  vocab_size: 50257,
};

const PYTHIA_160M = {
  architectures: ['GPTNeoXForCausalLM'],
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: 'gelu',
  hidden_size: 768,
  intermediate_size: 3072,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 2048,
  model_type: 'gpt_neox',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  rotary_emb_base: 10000,
  rotary_pct: 0.25,
  tie_word_embeddings: false,
  torch_dtype: 'float16',
  use_parallel_residual: true,
  vocab_size: 50304,
};
const TINYSTORIES_33M = {
  activation_function: 'gelu_new',
  architectures: ['GPTNeoForCausalLM'],
  attention_types: [[['global', 'local'], 2]],
  bos_token_id: 50256,
  eos_token_id: 50256,
  hidden_size: 768,
  intermediate_size: null,
  layer_norm_epsilon: 1e-5,
  max_position_embeddings: 2048,
  model_type: 'gpt_neo',
  num_heads: 16,
  num_layers: 4,
  torch_dtype: 'float32',
  vocab_size: 50257,
  window_size: 256,
};
const GEMMA_2B = {
  architectures: ['GemmaForCausalLM'],
  bos_token_id: 2,
  eos_token_id: 1,
  head_dim: 256,
  hidden_act: 'gelu',
  hidden_size: 2048,
  intermediate_size: 16384,
  max_position_embeddings: 8192,
  model_type: 'gemma',
  num_attention_heads: 8,
  num_hidden_layers: 18,
  num_key_value_heads: 1,
  rms_norm_eps: 1e-6,
  rope_theta: 10000.0,
  torch_dtype: 'bfloat16',
  vocab_size: 256000,
};
const GEMMA2_2B = {
  architectures: ['Gemma2ForCausalLM'],
  attn_logit_softcapping: 50.0,
  final_logit_softcapping: 30.0,
  head_dim: 256,
  hidden_act: 'gelu_pytorch_tanh',
  hidden_activation: 'gelu_pytorch_tanh',
  hidden_size: 2304,
  intermediate_size: 9216,
  max_position_embeddings: 8192,
  model_type: 'gemma2',
  num_attention_heads: 8,
  num_hidden_layers: 26,
  num_key_value_heads: 4,
  query_pre_attn_scalar: 256,
  rms_norm_eps: 1e-6,
  rope_theta: 10000.0,
  sliding_window: 4096,
  torch_dtype: 'float32',
  vocab_size: 256000,
};
const GEMMA3_270M = {
  architectures: ['Gemma3ForCausalLM'],
  head_dim: 256,
  hidden_activation: 'gelu_pytorch_tanh',
  hidden_size: 640,
  intermediate_size: 2048,
  max_position_embeddings: 32768,
  model_type: 'gemma3_text',
  num_attention_heads: 4,
  num_hidden_layers: 18,
  num_key_value_heads: 1,
  query_pre_attn_scalar: 256,
  rms_norm_eps: 1e-6,
  rope_local_base_freq: 10000.0,
  rope_theta: 1000000.0,
  sliding_window: 512,
  sliding_window_pattern: 6,
  torch_dtype: 'bfloat16',
  vocab_size: 262144,
};
const OLMO2_1B = {
  architectures: ['Olmo2ForCausalLM'],
  hidden_act: 'silu',
  hidden_size: 2048,
  intermediate_size: 8192,
  max_position_embeddings: 4096,
  model_type: 'olmo2',
  num_attention_heads: 16,
  num_hidden_layers: 16,
  num_key_value_heads: 16,
  rms_norm_eps: 1e-6,
  rope_theta: 500000,
  tie_word_embeddings: false,
  torch_dtype: 'float32',
  vocab_size: 100352,
};
const PHI3_MINI_4K = {
  architectures: ['Phi3ForCausalLM'],
  hidden_act: 'silu',
  hidden_size: 3072,
  intermediate_size: 8192,
  max_position_embeddings: 4096,
  model_type: 'phi3',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 32,
  original_max_position_embeddings: 4096,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 10000.0,
  sliding_window: 2047,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  vocab_size: 32064,
};
const PHI4_MINI = {
  ...PHI3_MINI_4K,
  hidden_size: 3072,
  num_attention_heads: 24,
  num_key_value_heads: 8,
  num_hidden_layers: 32,
  partial_rotary_factor: 0.75,
  max_position_embeddings: 131072,
  sliding_window: 262144,
  tie_word_embeddings: true,
  vocab_size: 200064,
  rope_scaling: { type: 'longrope', short_factor: new Array(48).fill(1), long_factor: new Array(48).fill(2), original_max_position_embeddings: 4096 },
};
const LLAMA32_1B = {
  architectures: ['LlamaForCausalLM'],
  head_dim: 64,
  hidden_size: 2048,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 128256,
};

describe('describeModel on published configs of the GPT and newer families', () => {
  it('GPT-2 small', () => {
    expect(describeModel(GPT2)).toMatchObject({
      family: 'gpt2',
      hidden_size: 768,
      intermediate_size: 3072,
      head_dim: 64,
      num_key_value_heads: 12,
      normKind: 'layer',
      norm_eps: 1e-5,
      mlpKind: 'plain',
      hidden_act: 'gelu_tanh',
      positionKind: 'learned',
      hasQkvBias: true,
      hasOBias: true,
      hasMlpBias: true,
      tie_word_embeddings: true,
      max_position_embeddings: 1024,
      bos_token_id: 50256,
      eos_token_ids: [50256],
    });
  });

  it('Pythia 160M: parallel residual, a quarter of each head rotated, untied', () => {
    expect(describeModel(PYTHIA_160M)).toMatchObject({
      family: 'gpt_neox',
      head_dim: 64,
      normKind: 'layer',
      hidden_act: 'gelu',
      positionKind: 'rope',
      rope: { theta: 10000, dim: 16, scaling: { kind: 'none' } },
      parallelResidual: true,
      hasQkvBias: true,
      hasOBias: true,
      tie_word_embeddings: false,
      dtype: 'F16',
    });
    expect(describeModel({ ...PYTHIA_160M, use_parallel_residual: false }).parallelResidual).toBe(false);
  });

  it('TinyStories 33M: global and local layers, unscaled scores, 4 D MLP', () => {
    const d = describeModel(TINYSTORIES_33M);
    expect(d).toMatchObject({
      family: 'gpt_neo',
      head_dim: 48,
      intermediate_size: 3072,
      attention_scale: 1,
      sliding_window: 256,
      hasQkvBias: false,
      hasOBias: true,
      tie_word_embeddings: true,
    });
    expect(d.layer_types).toEqual(['full', 'sliding', 'full', 'sliding']);
  });

  it('Gemma 2B: tanh GELU for the legacy "gelu", sqrt(D) embeddings, head_dim 256 with one KV head', () => {
    expect(describeModel(GEMMA_2B)).toMatchObject({
      family: 'gemma',
      hidden_act: 'gelu_tanh',
      head_dim: 256,
      num_key_value_heads: 1,
      embedding_scale: Math.fround(Math.sqrt(2048)),
      tie_word_embeddings: true,
    });
  });

  it('Gemma 2 2B: soft-caps, alternating sliding layers, query_pre_attn_scalar, post-norms', () => {
    const d = describeModel(GEMMA2_2B);
    expect(d).toMatchObject({
      family: 'gemma2',
      attn_logit_softcapping: 50,
      final_logit_softcapping: 30,
      attention_scale: 1 / 16,
      sliding_window: 4096,
      hasPostNorms: true,
      hasPreNorms: true,
    });
    expect(d.layer_types.slice(0, 4)).toEqual(['sliding', 'full', 'sliding', 'full']);
    expect(describeModel({ ...GEMMA2_2B, final_logit_softcapping: null }).final_logit_softcapping).toBeNull();
  });

  it('Gemma 3 270M: every sixth layer global, a local RoPE base, q/k norm, no soft-caps', () => {
    const d = describeModel(GEMMA3_270M);
    expect(d).toMatchObject({
      family: 'gemma3_text',
      qkNorm: 'head',
      attn_logit_softcapping: null,
      final_logit_softcapping: null,
      rope: { theta: 1e6, local_theta: 10000, dim: 256 },
    });
    expect(d.layer_types.map((t, l) => (t === 'full' ? l : -1)).filter((l) => l >= 0)).toEqual([5, 11, 17]);
  });

  it('OLMo-2 1B: output norms only, q/k norm over the projection', () => {
    expect(describeModel(OLMO2_1B)).toMatchObject({ family: 'olmo2', hasPreNorms: false, hasPostNorms: true, qkNorm: 'projection', rope: { theta: 500000 } });
  });

  it('Phi-3 mini 4k: a 2047-key window on every layer; Phi-4 mini: partial rotary and longrope', () => {
    const phi3 = describeModel(PHI3_MINI_4K);
    expect(phi3.sliding_window).toBe(2047);
    expect(phi3.layer_types.every((t) => t === 'sliding')).toBe(true);
    const phi4 = describeModel(PHI4_MINI);
    expect(phi4.rope).toMatchObject({ dim: 96, scaling: { kind: 'longrope', original_max_position_embeddings: 4096 } });
    // The magnitude from the context extension: sqrt(1 + ln(131072 / 4096) / ln(4096)).
    expect(phi4.rope!.scaling.kind === 'longrope' && phi4.rope!.scaling.attention_factor).toBeCloseTo(Math.sqrt(1 + Math.log(32) / Math.log(4096)), 12);
  });

  it('Llama 3.2 1B: Llama 3 RoPE scaling', () => {
    expect(describeModel(LLAMA32_1B).rope).toEqual({
      theta: 500000,
      dim: 64,
      local_theta: null,
      scaling: { kind: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
    });
  });
});
