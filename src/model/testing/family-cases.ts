// Random tiny models of the families beyond the first five, each exercising its family's features
// (parallel residual, partial and scaled RoPE, windows shorter than the prompt, soft-caps, post-norms,
// q/k norm over the projection, no pre-norms), in the dtypes they ship in, tied and untied. Shared
// by the reference engine's, the GPU engine's and the bias-placement tests.

import type { RandomModelOptions } from './random-model';

export interface FamilyCase {
  name: string;
  model: RandomModelOptions;
}

/** Rotated dims 0.5 of 8, windows of 3 keys on 7-token prompts, longrope past an original context of 4. */
export const FAMILY_CASES: FamilyCase[] = [
  { name: 'gpt_neox f16, parallel residual, partial rotary, untied', model: { family: 'gpt_neox', dtype: 'F16', seed: 31 } },
  { name: 'gpt_neox f32, sequential residual, tied', model: { family: 'gpt_neox', seed: 32, parallel_residual: false, tie_word_embeddings: true } },
  { name: 'gpt_neo f32, global and local layers, unscaled scores', model: { family: 'gpt_neo', seed: 33, num_hidden_layers: 3 } },
  { name: 'gemma bf16, head_dim != D/H, one KV head', model: { family: 'gemma', dtype: 'BF16', seed: 34, head_dim: 12, num_key_value_heads: 1 } },
  { name: 'gemma2 f32, soft-caps, sliding layers, post-norms', model: { family: 'gemma2', seed: 35, num_hidden_layers: 3 } },
  { name: 'gemma3_text bf16, q/k norm, local and global RoPE bases', model: { family: 'gemma3_text', dtype: 'BF16', seed: 36, num_hidden_layers: 3 } },
  { name: 'olmo2 bf16, no pre-norms, q/k norm over the projection', model: { family: 'olmo2', dtype: 'BF16', seed: 37 } },
  {
    name: 'phi3 f32, window, partial rotary, longrope past the original context',
    model: {
      family: 'phi3',
      seed: 38,
      window: 4,
      rotary_fraction: 0.5,
      rope_scaling: { kind: 'longrope', short_factor: [1, 1.5], long_factor: [2, 4], original_max_position_embeddings: 4, attention_factor: 1.2 },
    },
  },
  { name: 'phi3 bf16, tied', model: { family: 'phi3', dtype: 'BF16', seed: 39, tie_word_embeddings: true } },
  {
    name: 'llama bf16 with Llama 3 RoPE scaling',
    model: {
      family: 'llama',
      dtype: 'BF16',
      seed: 40,
      rope_scaling: { kind: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
    },
  },
];
