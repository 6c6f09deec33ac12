// config.json -> ModelDescription for the LayerNorm families: GPT-2, GPT-Neo (TinyStories) and
// GPT-NeoX (Pythia), with their config classes' defaults. Shares the reader with config.ts.

import { type ConfigReader, dtypeOf, mismatch, unsupported } from './config-reader';
import { readRope } from './config-rope';
import type { ModelDescription } from './description';

const GELU: Readonly<Record<string, ModelDescription['hidden_act']>> = {
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh', // the same tanh approximation, written differently
  gelu: 'gelu',
};

function activation(r: ConfigReader, key: string, fallback: string): ModelDescription['hidden_act'] {
  const act = r.string(key) ?? fallback;
  const a = GELU[act];
  if (!a) unsupported(r.file, `${key} '${act}' is not supported (gelu_new, gelu_pytorch_tanh, gelu_fast or gelu)`);
  return a;
}

/** What every LayerNorm family shares: no RoPE scaling quirks, pre-norms, no caps, no windows unless set. */
function layerNormModel(
  base: Pick<
    ModelDescription,
    | 'name'
    | 'family'
    | 'vocab_size'
    | 'hidden_size'
    | 'num_hidden_layers'
    | 'num_attention_heads'
    | 'intermediate_size'
    | 'max_position_embeddings'
    | 'norm_eps'
    | 'hidden_act'
    | 'tie_word_embeddings'
    | 'bos_token_id'
    | 'eos_token_ids'
    | 'dtype'
  >,
  rest: Partial<ModelDescription>,
): ModelDescription {
  const dh = base.hidden_size / base.num_attention_heads;
  return {
    ...base,
    num_key_value_heads: base.num_attention_heads,
    head_dim: dh,
    normKind: 'layer',
    mlpKind: 'plain',
    positionKind: 'learned',
    rope: null,
    embedding_scale: 1,
    layer_types: Array.from({ length: base.num_hidden_layers }, () => 'full' as const),
    sliding_window: null,
    attention_scale: 1 / Math.sqrt(dh),
    attn_logit_softcapping: null,
    final_logit_softcapping: null,
    hasQkvBias: true,
    hasOBias: true,
    hasMlpBias: true,
    qkNorm: 'none',
    hasPreNorms: true,
    hasPostNorms: false,
    parallelResidual: false,
    ...rest,
  };
}

export function describeGpt2(r: ConfigReader, name: string): ModelDescription {
  const D = r.dim('n_embd');
  const H = r.dim('n_head');
  if (D % H !== 0) mismatch(r.file, `n_embd (${D}) is not divisible by n_head (${H})`);
  if (r.bool('add_cross_attention', false)) unsupported(r.file, 'add_cross_attention is not supported (decoder-only models)');
  if (!r.bool('scale_attn_weights', true)) unsupported(r.file, 'scale_attn_weights false is not supported');
  if (r.bool('scale_attn_by_inverse_layer_idx', false)) unsupported(r.file, 'scale_attn_by_inverse_layer_idx is not supported');
  return layerNormModel(
    {
      name,
      family: 'gpt2',
      vocab_size: r.dim('vocab_size'),
      hidden_size: D,
      num_hidden_layers: r.dim('n_layer'),
      num_attention_heads: H,
      intermediate_size: r.dim('n_inner', 4 * D),
      max_position_embeddings: r.dim('n_positions', 1024),
      norm_eps: r.positive('layer_norm_epsilon', 1e-5),
      hidden_act: activation(r, 'activation_function', 'gelu_new'),
      tie_word_embeddings: r.bool('tie_word_embeddings', true),
      bos_token_id: r.tokenId('bos_token_id', 50256),
      eos_token_ids: r.tokenIds('eos_token_id', 50256),
      dtype: dtypeOf(r),
    },
    {},
  );
}

/** GPT-Neo's attention_types, [[pattern, repeat], ...], expanded to one kind per layer. */
function neoLayerTypes(r: ConfigReader, L: number): ('full' | 'sliding')[] {
  const spec = r.c['attention_types'] ?? [[['global', 'local'], L / 2]];
  const bad = () => r.fail('attention_types', 'must be a list of [["global" | "local", ...], repeat] pairs');
  if (!Array.isArray(spec)) bad();
  const kinds: ('full' | 'sliding')[] = [];
  for (const item of spec as unknown[]) {
    if (!Array.isArray(item) || item.length !== 2 || !Array.isArray(item[0]) || !Number.isInteger(item[1]) || item[1] < 0) bad();
    const [pattern, repeat] = item as [unknown[], number];
    for (let i = 0; i < repeat && kinds.length <= L; i++) {
      for (const k of pattern) {
        if (k === 'global') kinds.push('full');
        else if (k === 'local') kinds.push('sliding');
        else bad();
      }
    }
  }
  if (kinds.length !== L) mismatch(r.file, `attention_types describe ${kinds.length} layers but num_layers is ${L}`);
  return kinds;
}

export function describeGptNeo(r: ConfigReader, name: string): ModelDescription {
  const D = r.dim('hidden_size');
  const H = r.dim('num_heads');
  const L = r.dim('num_layers');
  if (D % H !== 0) mismatch(r.file, `hidden_size (${D}) is not divisible by num_heads (${H})`);
  const types = neoLayerTypes(r, L);
  return layerNormModel(
    {
      name,
      family: 'gpt_neo',
      vocab_size: r.dim('vocab_size'),
      hidden_size: D,
      num_hidden_layers: L,
      num_attention_heads: H,
      intermediate_size: r.dim('intermediate_size', 4 * D),
      max_position_embeddings: r.dim('max_position_embeddings', 2048),
      norm_eps: r.positive('layer_norm_epsilon', 1e-5),
      hidden_act: activation(r, 'activation_function', 'gelu_new'),
      tie_word_embeddings: r.bool('tie_word_embeddings', true),
      bos_token_id: r.tokenId('bos_token_id', 50256),
      eos_token_ids: r.tokenIds('eos_token_id', 50256),
      dtype: dtypeOf(r),
    },
    {
      layer_types: types,
      sliding_window: types.includes('sliding') ? r.dim('window_size', 256) : null,
      // GPT-Neo does not scale its attention scores.
      attention_scale: 1,
      // Only the output projection has a bias.
      hasQkvBias: false,
    },
  );
}

export function describeGptNeox(r: ConfigReader, name: string): ModelDescription {
  const D = r.dim('hidden_size');
  const H = r.dim('num_attention_heads');
  if (D % H !== 0) mismatch(r.file, `hidden_size (${D}) is not divisible by num_attention_heads (${H})`);
  const maxPositions = r.dim('max_position_embeddings', 2048);
  const attentionBias = r.bool('attention_bias', true);
  return layerNormModel(
    {
      name,
      family: 'gpt_neox',
      vocab_size: r.dim('vocab_size'),
      hidden_size: D,
      num_hidden_layers: r.dim('num_hidden_layers'),
      num_attention_heads: H,
      intermediate_size: r.dim('intermediate_size'),
      max_position_embeddings: maxPositions,
      norm_eps: r.positive('layer_norm_eps', 1e-5),
      hidden_act: activation(r, 'hidden_act', 'gelu'),
      tie_word_embeddings: r.bool('tie_word_embeddings', false),
      bos_token_id: r.tokenId('bos_token_id', 0),
      eos_token_ids: r.tokenIds('eos_token_id', 2),
      dtype: dtypeOf(r),
    },
    {
      positionKind: 'rope',
      rope: readRope(r, D / H, { theta: 10000, thetaKey: 'rotary_emb_base', partial: 0.25, partialKey: 'rotary_pct', max_position_embeddings: maxPositions }),
      hasQkvBias: attentionBias,
      hasOBias: attentionBias,
      parallelResidual: r.bool('use_parallel_residual', true),
    },
  );
}
