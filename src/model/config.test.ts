// describeModel on published config.json files (copied from the Hugging Face Hub model pages,
// trimmed of keys that do not matter), on minimal configs that exercise each config class's
// defaults (values from the transformers config classes), and on every refusal.

import { describe, expect, it } from 'vitest';
import { describeModel } from './config';
import { ModelFormatError } from './errors';
import { randomModel } from './testing/random-model';
import { hfConfig } from './testing/serialize';

const TINYLLAMA = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 2048,
  intermediate_size: 5632,
  max_position_embeddings: 2048,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 22,
  num_key_value_heads: 4,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 10000.0,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  vocab_size: 32000,
};
const SMOLLM_135M = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: 'silu',
  hidden_size: 576,
  intermediate_size: 1536,
  max_position_embeddings: 2048,
  model_type: 'llama',
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 10000.0,
  tie_word_embeddings: true,
  torch_dtype: 'float32',
  vocab_size: 49152,
};
const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151643,
  hidden_act: 'silu',
  hidden_size: 896,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 24,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_sliding_window: false,
  vocab_size: 151936,
};
const QWEN3_06B = {
  architectures: ['Qwen3ForCausalLM'],
  attention_bias: false,
  bos_token_id: 151643,
  eos_token_id: 151645,
  head_dim: 128,
  hidden_act: 'silu',
  hidden_size: 1024,
  intermediate_size: 3072,
  max_position_embeddings: 40960,
  max_window_layers: 28,
  model_type: 'qwen3',
  num_attention_heads: 16,
  num_hidden_layers: 28,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: null,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_sliding_window: false,
  vocab_size: 151936,
};
/** GPT-2 small's keys that the refusals vary (the full published config is in config-families.test.ts). */
const GPT2 = { model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, activation_function: 'gelu_new' };
const MISTRAL_7B_V01 = {
  architectures: ['MistralForCausalLM'],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 4096,
  intermediate_size: 14336,
  max_position_embeddings: 32768,
  model_type: 'mistral',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  sliding_window: 4096,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  vocab_size: 32000,
};
const LLAMA32_1B_ROPE = { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' };

function refusal(config: unknown, code: string, message: string): void {
  let err: unknown = null;
  try {
    describeModel(config, 'm/config.json');
  } catch (e) {
    err = e;
  }
  expect(err, message).toBeInstanceOf(ModelFormatError);
  expect((err as ModelFormatError).code, message).toBe(code);
  expect((err as Error).message).toBe(`m/config.json: ${message}`);
}

describe('describeModel on published configs', () => {
  it('TinyLlama 1.1B', () => {
    expect(describeModel(TINYLLAMA, 'config.json', 'TinyLlama')).toEqual({
      name: 'TinyLlama',
      family: 'llama',
      vocab_size: 32000,
      hidden_size: 2048,
      num_hidden_layers: 22,
      num_attention_heads: 32,
      num_key_value_heads: 4,
      head_dim: 64,
      intermediate_size: 5632,
      max_position_embeddings: 2048,
      normKind: 'rms',
      norm_eps: 1e-5,
      mlpKind: 'gated',
      hidden_act: 'silu',
      positionKind: 'rope',
      rope: { theta: 10000, dim: 64, local_theta: null, scaling: { kind: 'none' } },
      embedding_scale: 1,
      layer_types: Array.from({ length: 22 }, () => 'full'),
      sliding_window: null,
      attention_scale: 1 / 8,
      attn_logit_softcapping: null,
      final_logit_softcapping: null,
      hasQkvBias: false,
      hasOBias: false,
      hasMlpBias: false,
      qkNorm: 'none',
      hasPreNorms: true,
      hasPostNorms: false,
      parallelResidual: false,
      tie_word_embeddings: false,
      bos_token_id: 1,
      eos_token_ids: [2],
      dtype: 'BF16',
    });
  });

  it('SmolLM 135M (9 heads, 3 KV heads, tied)', () => {
    const d = describeModel(SMOLLM_135M);
    expect(d).toMatchObject({
      family: 'llama',
      head_dim: 64,
      num_key_value_heads: 3,
      tie_word_embeddings: true,
      bos_token_id: 0,
      eos_token_ids: [0],
      dtype: 'F32',
    });
    expect(d.name).toBe('llama'); // no folder name and no _name_or_path
  });

  it('Qwen2.5 0.5B (q/k/v biases, no head_dim key)', () => {
    expect(describeModel({ ...QWEN25_05B, _name_or_path: 'Qwen/Qwen2.5-0.5B' })).toMatchObject({
      name: 'Qwen/Qwen2.5-0.5B',
      family: 'qwen2',
      head_dim: 64,
      num_key_value_heads: 2,
      rope: { theta: 1e6 },
      norm_eps: 1e-6,
      hasQkvBias: true,
      hasOBias: false,
      hasMlpBias: false,
      qkNorm: 'none',
      tie_word_embeddings: true,
      max_position_embeddings: 32768,
      bos_token_id: 151643,
      eos_token_ids: [151643],
    });
  });

  it('Qwen3 0.6B (q/k norm, head_dim 128 != D/H)', () => {
    expect(describeModel(QWEN3_06B)).toMatchObject({
      family: 'qwen3',
      head_dim: 128,
      hidden_size: 1024,
      num_attention_heads: 16,
      qkNorm: 'head',
      hasQkvBias: false,
      max_position_embeddings: 40960,
      eos_token_ids: [151645],
    });
  });

  it('Mistral 7B v0.1 (sliding window caps the context)', () => {
    expect(describeModel(MISTRAL_7B_V01)).toMatchObject({ family: 'mistral', head_dim: 128, max_position_embeddings: 4096, tie_word_embeddings: false });
    expect(describeModel({ ...MISTRAL_7B_V01, sliding_window: null }).max_position_embeddings).toBe(32768);
  });

  it('Llama 3 eos lists', () => {
    expect(describeModel({ ...TINYLLAMA, eos_token_id: [128001, 128008, 128009] }).eos_token_ids).toEqual([128001, 128008, 128009]);
  });
});

describe('config class defaults', () => {
  const core = { vocab_size: 100, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 8, intermediate_size: 128 };

  it('llama', () => {
    expect(describeModel({ model_type: 'llama', ...core })).toMatchObject({
      num_key_value_heads: 8,
      head_dim: 8,
      max_position_embeddings: 2048,
      norm_eps: 1e-6,
      rope: { theta: 10000 },
      tie_word_embeddings: false,
      bos_token_id: 1,
      eos_token_ids: [2],
      hasQkvBias: false,
      hasMlpBias: false,
      dtype: 'F32',
    });
    expect(describeModel({ model_type: 'llama', ...core, attention_bias: true, mlp_bias: true })).toMatchObject({
      hasQkvBias: true,
      hasOBias: true,
      hasMlpBias: true,
    });
  });

  it('mistral: 8 KV heads and a 4096 window when the keys are absent, H and no window when null', () => {
    expect(describeModel({ model_type: 'mistral', ...core, num_attention_heads: 16 })).toMatchObject({
      num_key_value_heads: 8,
      head_dim: 4,
      max_position_embeddings: 4096,
      norm_eps: 1e-6,
      bos_token_id: 1,
      eos_token_ids: [2],
      tie_word_embeddings: false,
    });
    expect(describeModel({ model_type: 'mistral', ...core, num_attention_heads: 16, num_key_value_heads: null, sliding_window: null })).toMatchObject({
      num_key_value_heads: 16,
      max_position_embeddings: 131072,
    });
  });

  it('qwen2: 32 KV heads, 32768 positions, no bos/eos, q/k/v bias', () => {
    expect(describeModel({ model_type: 'qwen2', ...core, num_attention_heads: 32 })).toMatchObject({
      num_key_value_heads: 32,
      head_dim: 2,
      max_position_embeddings: 32768,
      bos_token_id: null,
      eos_token_ids: [],
      hasQkvBias: true,
      hasOBias: false,
      tie_word_embeddings: false,
    });
    // A sliding window matters only when some layer uses it.
    const swa = { model_type: 'qwen2', ...core, num_key_value_heads: 8, use_sliding_window: true, sliding_window: 512 };
    expect(describeModel({ ...swa, max_window_layers: 2 }).max_position_embeddings).toBe(32768);
    expect(describeModel({ ...swa, max_window_layers: 1 }).max_position_embeddings).toBe(512);
  });

  it('qwen3: head_dim 128 when absent, D/H when null', () => {
    expect(describeModel({ model_type: 'qwen3', ...core, num_attention_heads: 32 })).toMatchObject({ num_key_value_heads: 32, head_dim: 128, qkNorm: 'head' });
    expect(describeModel({ model_type: 'qwen3', ...core, num_key_value_heads: 4, head_dim: null }).head_dim).toBe(8);
    expect(describeModel({ model_type: 'qwen3', ...core, num_key_value_heads: 4, attention_bias: true })).toMatchObject({ hasQkvBias: true, hasOBias: true });
  });

  it('gpt2: n_inner null is 4 n_embd, always tied unless told otherwise', () => {
    const g = { model_type: 'gpt2', vocab_size: 100, n_embd: 64, n_layer: 2, n_head: 4 };
    expect(describeModel({ ...g, n_inner: null })).toMatchObject({
      intermediate_size: 256,
      max_position_embeddings: 1024,
      tie_word_embeddings: true,
      norm_eps: 1e-5,
      hidden_act: 'gelu_tanh',
    });
    expect(describeModel({ ...g, n_inner: 100, activation_function: 'gelu' })).toMatchObject({ intermediate_size: 100, hidden_act: 'gelu' });
  });

  it('architectures stand in for a missing model_type', () => {
    expect(describeModel({ architectures: ['Qwen2ForCausalLM'], ...core, num_key_value_heads: 2 }).family).toBe('qwen2');
  });

  it('rope_scaling of type default and rope_parameters are plain RoPE', () => {
    expect(describeModel({ model_type: 'llama', ...core, rope_scaling: { type: 'default' } }).rope?.theta).toBe(10000);
    expect(describeModel({ model_type: 'llama', ...core, rope_parameters: { rope_type: 'default', rope_theta: 500000 } }).rope?.theta).toBe(500000);
  });

  it('matches what the test-model writer puts in config.json', () => {
    for (const family of ['llama', 'mistral', 'qwen2', 'qwen3', 'gpt2'] as const) {
      for (const tie of [true, false]) {
        const { description } = randomModel({ family, tie_word_embeddings: tie, dtype: 'F16', ...(family === 'qwen3' ? { head_dim: 12 } : {}) });
        expect(describeModel(hfConfig(description))).toEqual(description);
      }
    }
  });
});

describe('refusals', () => {
  const core = { model_type: 'llama', vocab_size: 100, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 8, intermediate_size: 128 };
  it('unsupported models', () => {
    refusal(
      { ...core, model_type: 'mamba' },
      'unsupported',
      "model_type 'mamba' is not a transformer decoder this tool supports (llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, olmo2, phi3, gpt2, gpt_neox, gpt_neo)",
    );
    refusal(
      { ...core, rope_scaling: { type: 'yarn', factor: 4 } },
      'unsupported',
      "rope_scaling type 'yarn' is not supported (default, linear, llama3 or longrope)",
    );
    refusal(
      { ...core, rope_scaling: { rope_type: 'dynamic', factor: 2 } },
      'unsupported',
      "rope_scaling type 'dynamic' is not supported (default, linear, llama3 or longrope)",
    );
    refusal({ ...TINYLLAMA, rope_scaling: { ...LLAMA32_1B_ROPE, low_freq_factor: undefined } }, 'bad-json', "missing key 'rope_scaling.low_freq_factor'");
    refusal({ ...core, hidden_act: 'gelu' }, 'unsupported', "hidden_act 'gelu' is not supported for llama models (only silu)");
    refusal(
      { ...GPT2, activation_function: 'relu' },
      'unsupported',
      "activation_function 'relu' is not supported (gelu_new, gelu_pytorch_tanh, gelu_fast or gelu)",
    );
    refusal({ ...GPT2, scale_attn_by_inverse_layer_idx: true }, 'unsupported', 'scale_attn_by_inverse_layer_idx is not supported');
    refusal({ ...GPT2, add_cross_attention: true }, 'unsupported', 'add_cross_attention is not supported (decoder-only models)');
  });

  it('inconsistent numbers', () => {
    refusal({ ...core, num_key_value_heads: 3 }, 'mismatch', 'num_attention_heads (8) is not a multiple of num_key_value_heads (3)');
    refusal({ ...core, num_attention_heads: 6 }, 'mismatch', 'hidden_size (64) is not divisible by num_attention_heads (6) and there is no head_dim');
    refusal({ ...core, head_dim: 7 }, 'mismatch', 'head_dim (7) must be even for rotary position embeddings');
    refusal({ ...GPT2, n_head: 5 }, 'mismatch', 'n_embd (768) is not divisible by n_head (5)');
  });

  it('bad keys', () => {
    refusal([core], 'bad-json', 'config is not a JSON object');
    refusal(null, 'bad-json', 'config is not a JSON object');
    refusal({ ...core, model_type: undefined }, 'bad-json', "missing key 'model_type'");
    refusal({ ...core, model_type: 7 }, 'bad-json', "'model_type' must be a string, got 7");
    refusal({ ...core, hidden_size: undefined }, 'bad-json', "missing key 'hidden_size'");
    refusal({ ...core, hidden_size: 0 }, 'bad-json', "'hidden_size' must be positive, got 0");
    refusal({ ...core, num_hidden_layers: -2 }, 'bad-json', "'num_hidden_layers' must be positive, got -2");
    refusal({ ...core, intermediate_size: 1.5 }, 'bad-json', "'intermediate_size' must be an integer, got 1.5");
    refusal({ ...core, vocab_size: '100' }, 'bad-json', `'vocab_size' must be an integer, got "100"`);
    refusal({ ...core, vocab_size: 2 ** 40 }, 'bad-json', `'vocab_size' = ${2 ** 40} is out of range`);
    refusal({ ...core, tie_word_embeddings: 'yes' }, 'bad-json', `'tie_word_embeddings' must be true or false, got "yes"`);
    refusal({ ...core, rms_norm_eps: -1 }, 'bad-json', "'rms_norm_eps' must be a positive number, got -1");
    refusal({ ...core, rope_theta: 'big' }, 'bad-json', `'rope_theta' must be a positive number, got "big"`);
    refusal({ ...core, rope_scaling: 2 }, 'bad-json', "'rope_scaling' must be an object or null, got 2");
    refusal({ ...core, eos_token_id: [2, -1] }, 'bad-json', "'eos_token_id' must hold token ids, got -1");
    refusal({ ...core, bos_token_id: 1.5 }, 'bad-json', "'bos_token_id' must be a token id, got 1.5");
    refusal({ ...GPT2, n_embd: undefined }, 'bad-json', "missing key 'n_embd'");
  });
});
