// config.json -> ModelDescription, once, for the families we support, with the defaults each
// Hugging Face config class applies. This file holds the entry point and the RoPE decoders that
// share the Llama layout (Llama, Mistral, Qwen2/3, Gemma 1/2/3, OLMo-2, Phi-3); the GPT families
// are in config-gpt.ts. Everything else is refused with a one-line reason. Tensors are checked in
// checkpoint.ts.

import { describeGpt2, describeGptNeo, describeGptNeox } from './config-gpt';
import { ConfigReader, dtypeOf, isObject, mismatch, unsupported } from './config-reader';
import { readRope } from './config-rope';
import type { Family, ModelDescription } from './description';
import { ModelFormatError } from './errors';

const SUPPORTED: readonly Family[] = ['llama', 'mistral', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'gemma3_text', 'olmo2', 'phi3', 'gpt2', 'gpt_neox', 'gpt_neo'];

const ARCHITECTURES: Readonly<Record<string, Family>> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  GemmaForCausalLM: 'gemma',
  Gemma2ForCausalLM: 'gemma2',
  Gemma3ForCausalLM: 'gemma3_text',
  Olmo2ForCausalLM: 'olmo2',
  Phi3ForCausalLM: 'phi3',
  GPT2LMHeadModel: 'gpt2',
  GPTNeoXForCausalLM: 'gpt_neox',
  GPTNeoForCausalLM: 'gpt_neo',
};

type RopeFamily = Exclude<Family, 'gpt2' | 'gpt_neox' | 'gpt_neo'>;

interface Defaults {
  /** num_key_value_heads when the key is absent: a number, or H. */
  kvHeads: number | 'H';
  /** head_dim when the key is absent: a number, or D/H. */
  headDim: number | 'D/H';
  maxPositions: number;
  bos: number | null;
  eos: number | null;
  eps: number;
  tied: boolean;
  theta: number;
}

/**
 * Defaults of the Hugging Face config classes for keys a config.json may leave out. Core sizes
 * (vocab, hidden, layers, heads, intermediate) are required instead: a config without them is
 * not a saved checkpoint, and the class defaults would only turn into a confusing tensor mismatch.
 */
const DEFAULTS: Record<RopeFamily, Defaults> = {
  llama: { kvHeads: 'H', headDim: 'D/H', maxPositions: 2048, bos: 1, eos: 2, eps: 1e-6, tied: false, theta: 10000 },
  mistral: { kvHeads: 8, headDim: 'D/H', maxPositions: 4096 * 32, bos: 1, eos: 2, eps: 1e-6, tied: false, theta: 10000 },
  qwen2: { kvHeads: 32, headDim: 'D/H', maxPositions: 32768, bos: null, eos: null, eps: 1e-6, tied: false, theta: 10000 },
  qwen3: { kvHeads: 32, headDim: 128, maxPositions: 32768, bos: null, eos: null, eps: 1e-6, tied: false, theta: 10000 },
  gemma: { kvHeads: 16, headDim: 256, maxPositions: 8192, bos: 2, eos: 1, eps: 1e-6, tied: true, theta: 10000 },
  gemma2: { kvHeads: 4, headDim: 256, maxPositions: 8192, bos: 2, eos: 1, eps: 1e-6, tied: true, theta: 10000 },
  gemma3_text: { kvHeads: 4, headDim: 256, maxPositions: 131072, bos: 2, eos: 1, eps: 1e-6, tied: true, theta: 1_000_000 },
  olmo2: { kvHeads: 'H', headDim: 'D/H', maxPositions: 2048, bos: null, eos: 50279, eps: 1e-5, tied: false, theta: 10000 },
  phi3: { kvHeads: 'H', headDim: 'D/H', maxPositions: 4096, bos: 1, eos: 32000, eps: 1e-5, tied: false, theta: 10000 },
};

function familyOf(r: ConfigReader): Family {
  const modelType = r.string('model_type');
  if (modelType === undefined) {
    const archs = r.c['architectures'];
    const known = Array.isArray(archs) ? archs.map((a) => (typeof a === 'string' ? ARCHITECTURES[a] : undefined)).find((f) => f) : undefined;
    if (known) return known;
    throw new ModelFormatError('bad-json', r.file, "missing key 'model_type'");
  }
  if (!(SUPPORTED as readonly string[]).includes(modelType)) {
    unsupported(r.file, `model_type '${modelType}' is not a transformer decoder this tool supports (${SUPPORTED.join(', ')})`);
  }
  return modelType as Family;
}

/**
 * The typed description of a Hugging Face config.json. `file` names the file in errors; `name`
 * (folder name) wins over `_name_or_path`.
 */
export function describeModel(config: unknown, file = 'config.json', name?: string): ModelDescription {
  if (!isObject(config)) throw new ModelFormatError('bad-json', file, 'config is not a JSON object');
  const r = new ConfigReader(config, file);
  const family = familyOf(r);
  const displayName = name ?? (r.string('_name_or_path') || family);
  switch (family) {
    case 'gpt2':
      return describeGpt2(r, displayName);
    case 'gpt_neo':
      return describeGptNeo(r, displayName);
    case 'gpt_neox':
      return describeGptNeox(r, displayName);
    default:
      return describeRopeFamily(r, family, displayName);
  }
}

/** Mistral and Qwen: an attention window caps the usable context (it is not applied per layer). */
function cappingWindow(r: ConfigReader, family: RopeFamily, L: number): number | null {
  const windowOf = (fallback: number | null) => {
    const v = r.c['sliding_window'];
    if (v === undefined) return fallback;
    if (v === null) return null;
    return r.dim('sliding_window');
  };
  if (family === 'mistral') return windowOf(4096); // MistralConfig's default window
  if (family === 'qwen2' || family === 'qwen3') {
    if (!r.bool('use_sliding_window', false)) return null;
    const window = windowOf(4096);
    if (window === null) return null;
    const layerTypes = r.c['layer_types'];
    if (Array.isArray(layerTypes)) return layerTypes.includes('sliding_attention') ? window : null;
    return r.dim('max_window_layers', 28) < L ? window : null;
  }
  return null;
}

/** Which layers slide (Gemma 2, 3 and Phi-3 apply windows per layer). */
function layerTypes(r: ConfigReader, family: RopeFamily, L: number): { types: ('full' | 'sliding')[]; window: number | null } {
  const full = Array.from({ length: L }, () => 'full' as const);
  if (family === 'phi3') {
    const window = r.c['sliding_window'] === undefined || r.c['sliding_window'] === null ? null : r.dim('sliding_window');
    return { types: full.map(() => (window === null ? 'full' : 'sliding')), window };
  }
  if (family !== 'gemma2' && family !== 'gemma3_text') return { types: full, window: null };
  const window = r.dim('sliding_window', 4096);
  const listed = r.c['layer_types'];
  if (Array.isArray(listed)) {
    if (listed.length !== L) r.fail('layer_types', `has ${listed.length} entries for ${L} layers`);
    return {
      window,
      types: listed.map((t) => {
        if (t === 'sliding_attention') return 'sliding';
        if (t === 'full_attention') return 'full';
        return r.fail('layer_types', `holds '${String(t)}', not sliding_attention or full_attention`);
      }),
    };
  }
  if (family === 'gemma2') return { window, types: full.map((_, l) => (l % 2 === 0 ? 'sliding' : 'full')) };
  // Gemma 3: every P-th layer is global.
  const P = r.has('sliding_window_pattern') ? r.dim('sliding_window_pattern') : r.dim('_sliding_window_pattern', 6);
  return { window, types: full.map((_, l) => ((l + 1) % P === 0 ? 'full' : 'sliding')) };
}

const GELU_TANH = ['gelu_pytorch_tanh', 'gelu_new', 'gelu_fast'];

function activationOf(r: ConfigReader, family: RopeFamily): ModelDescription['hidden_act'] {
  if (family === 'gemma2' || family === 'gemma3_text') {
    const act = r.string('hidden_activation') ?? r.string('hidden_act') ?? 'gelu_pytorch_tanh';
    if (!GELU_TANH.includes(act)) unsupported(r.file, `hidden_activation '${act}' is not supported for ${family} models (gelu_pytorch_tanh)`);
    return 'gelu_tanh';
  }
  if (family === 'gemma') {
    // Gemma 1 configs say "gelu", which its config class takes to mean the tanh approximation.
    const act = r.string('hidden_activation') ?? r.string('hidden_act') ?? 'gelu_pytorch_tanh';
    if (act !== 'gelu' && !GELU_TANH.includes(act)) unsupported(r.file, `hidden_act '${act}' is not supported for gemma models (gelu_pytorch_tanh)`);
    return 'gelu_tanh';
  }
  const act = r.string('hidden_act') ?? 'silu';
  if (act !== 'silu' && act !== 'swish') unsupported(r.file, `hidden_act '${act}' is not supported for ${family} models (only silu)`);
  return 'silu';
}

function describeRopeFamily(r: ConfigReader, family: RopeFamily, name: string): ModelDescription {
  const file = r.file;
  const def = DEFAULTS[family];
  const V = r.dim('vocab_size');
  const D = r.dim('hidden_size');
  const L = r.dim('num_hidden_layers');
  const H = r.dim('num_attention_heads');
  const I = r.dim('intermediate_size');
  // Absent: the class default; null: the class replaces it by H (and head_dim by D/H).
  const Hkv = r.c['num_key_value_heads'] === undefined && def.kvHeads !== 'H' ? def.kvHeads : r.dim('num_key_value_heads', H);
  const classHeadDim = r.c['head_dim'] === undefined && def.headDim !== 'D/H' ? def.headDim : null;
  if (!r.has('head_dim') && classHeadDim === null && D % H !== 0) {
    mismatch(file, `hidden_size (${D}) is not divisible by num_attention_heads (${H}) and there is no head_dim`);
  }
  const dh = r.has('head_dim') ? r.dim('head_dim') : (classHeadDim ?? D / H);
  if (H % Hkv !== 0) mismatch(file, `num_attention_heads (${H}) is not a multiple of num_key_value_heads (${Hkv})`);
  if (dh % 2 !== 0) mismatch(file, `head_dim (${dh}) must be even for rotary position embeddings`);

  let maxPositions = r.dim('max_position_embeddings', def.maxPositions);
  const capping = cappingWindow(r, family, L);
  if (capping !== null) maxPositions = Math.min(maxPositions, capping);
  const gemma = family === 'gemma' || family === 'gemma2' || family === 'gemma3_text';
  const rope = readRope(r, dh, {
    theta: def.theta,
    partial: 1,
    partialKey: family === 'phi3' ? 'partial_rotary_factor' : undefined,
    local: family === 'gemma3_text' ? { key: 'rope_local_base_freq', theta: 10000 } : undefined,
    max_position_embeddings: maxPositions,
  });
  const { types, window } = layerTypes(r, family, L);
  const softcaps = family === 'gemma2' || family === 'gemma3_text';
  // Gemma 2 and 3 scale scores by query_pre_attn_scalar (256 by default), not by head_dim.
  const scaleBy = family === 'gemma2' || family === 'gemma3_text' ? r.positive('query_pre_attn_scalar', 256) : dh;

  const withAttentionBias = ['llama', 'qwen3', 'gemma', 'gemma2', 'gemma3_text', 'olmo2'].includes(family);
  const attentionBias = withAttentionBias ? r.bool('attention_bias', false) : false;
  const mlpBias = family === 'llama' ? r.bool('mlp_bias', false) : false;
  return {
    name,
    family,
    vocab_size: V,
    hidden_size: D,
    num_hidden_layers: L,
    num_attention_heads: H,
    num_key_value_heads: Hkv,
    head_dim: dh,
    intermediate_size: I,
    max_position_embeddings: maxPositions,
    normKind: 'rms',
    norm_eps: r.positive('rms_norm_eps', def.eps),
    mlpKind: 'gated',
    hidden_act: activationOf(r, family),
    positionKind: 'rope',
    rope,
    // sqrt(D) in the embedding's dtype is settled when the weights are read (checkpoint.ts).
    embedding_scale: gemma ? Math.fround(Math.sqrt(D)) : 1,
    layer_types: types,
    sliding_window: window,
    attention_scale: 1 / Math.sqrt(scaleBy),
    attn_logit_softcapping: softcaps ? r.optionalPositive('attn_logit_softcapping', family === 'gemma2' ? 50 : null) : null,
    final_logit_softcapping: softcaps ? r.optionalPositive('final_logit_softcapping', family === 'gemma2' ? 30 : null) : null,
    hasQkvBias: family === 'qwen2' || attentionBias,
    hasOBias: attentionBias,
    hasMlpBias: mlpBias,
    qkNorm: family === 'qwen3' || family === 'gemma3_text' ? 'head' : family === 'olmo2' ? 'projection' : 'none',
    hasPreNorms: family !== 'olmo2',
    hasPostNorms: family === 'gemma2' || family === 'gemma3_text' || family === 'olmo2',
    parallelResidual: false,
    tie_word_embeddings: r.bool('tie_word_embeddings', def.tied),
    bos_token_id: r.tokenId('bos_token_id', def.bos),
    eos_token_ids: r.tokenIds('eos_token_id', def.eos),
    dtype: dtypeOf(r),
  };
}
