// config.json -> ModelDescription, once, for the families we support (Llama and its derivatives,
// Mistral, Qwen2, Qwen3, GPT-2), with the defaults each Hugging Face config class applies.
// Everything else is refused with a one-line reason. Tensors are checked in checkpoint.ts.

import type { DType, Family, ModelDescription } from './description';
import { ModelFormatError } from './errors';

const SUPPORTED: readonly Family[] = ['llama', 'mistral', 'qwen2', 'qwen3', 'gpt2'];

const ARCHITECTURES: Readonly<Record<string, Family>> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  GPT2LMHeadModel: 'gpt2',
};

/** Largest dimension we accept; anything bigger is a broken file, not a model. */
const MAX_DIM = 2 ** 31 - 1;

/**
 * Defaults of the Hugging Face config classes for keys a config.json may leave out. Core sizes
 * (vocab, hidden, layers, heads, intermediate) are required instead: a config without them is
 * not a saved checkpoint, and the class defaults (4096 wide, 32 layers) would only turn into
 * a confusing tensor mismatch later.
 */
const DEFAULTS: Record<
  Exclude<Family, 'gpt2'>,
  { kvHeads: number | 'H'; headDim: number | 'D/H'; maxPositions: number; bos: number | null; eos: number | null }
> = {
  llama: { kvHeads: 'H', headDim: 'D/H', maxPositions: 2048, bos: 1, eos: 2 },
  mistral: { kvHeads: 8, headDim: 'D/H', maxPositions: 4096 * 32, bos: 1, eos: 2 },
  qwen2: { kvHeads: 32, headDim: 'D/H', maxPositions: 32768, bos: null, eos: null },
  qwen3: { kvHeads: 32, headDim: 128, maxPositions: 32768, bos: null, eos: null },
};

const TORCH_DTYPES: Readonly<Record<string, DType>> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as a message quotes it: short, and safe for any parsed JSON (100000-deep nesting too). */
function shown(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = Array.isArray(v) ? '[...]' : '{...}'; // nested too deep to print
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Typed reads of config keys; every failure names the file and the key. */
class ConfigReader {
  constructor(
    readonly c: Record<string, unknown>,
    readonly file: string,
  ) {}

  fail(key: string, message: string): never {
    throw new ModelFormatError('bad-json', this.file, `'${key}' ${message}`);
  }

  has(key: string): boolean {
    return this.c[key] !== undefined && this.c[key] !== null;
  }

  /** A positive integer; absent or null gives `fallback`, or an error when there is none. */
  dim(key: string, fallback?: number): number {
    const v = this.c[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) throw new ModelFormatError('bad-json', this.file, `missing key '${key}'`);
      return fallback;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `must be an integer, got ${shown(v)}`);
    if (v <= 0) this.fail(key, `must be positive, got ${v}`);
    if (v > MAX_DIM) this.fail(key, `= ${v} is out of range`);
    return v;
  }

  positive(key: string, fallback: number): number {
    const v = this.c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(key, `must be a positive number, got ${shown(v)}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${shown(v)}`);
    return v;
  }

  tokenId(key: string, fallback: number | null): number | null {
    const v = this.c[key];
    if (v === undefined) return fallback;
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(key, `must be a token id, got ${shown(v)}`);
    return v;
  }

  tokenIds(key: string, fallback: number | null): number[] {
    const v = this.c[key];
    if (Array.isArray(v)) {
      return v.map((x) => {
        if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) this.fail(key, `must hold token ids, got ${shown(x)}`);
        return x;
      });
    }
    const id = this.tokenId(key, fallback);
    return id === null ? [] : [id];
  }

  string(key: string): string | undefined {
    const v = this.c[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') this.fail(key, `must be a string, got ${shown(v)}`);
    return v;
  }
}

function unsupported(file: string, message: string): never {
  throw new ModelFormatError('unsupported', file, message);
}

function mismatch(file: string, message: string): never {
  throw new ModelFormatError('mismatch', file, message);
}

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

/** rope_scaling / rope_parameters: only plain RoPE. Returns rope_theta when rope_parameters carries it. */
function checkRope(r: ConfigReader): number | undefined {
  let theta: number | undefined;
  for (const key of ['rope_scaling', 'rope_parameters']) {
    const v = r.c[key];
    if (v === undefined || v === null) continue;
    if (!isObject(v)) r.fail(key, 'must be an object or null');
    const type = v['rope_type'] ?? v['type'] ?? 'default';
    if (type !== 'default') unsupported(r.file, `${key} type '${String(type)}' is not supported (plain RoPE only)`);
    if (key === 'rope_parameters' && v['rope_theta'] !== undefined) {
      if (typeof v['rope_theta'] !== 'number' || !(v['rope_theta'] > 0)) r.fail(key, 'rope_theta must be a positive number');
      theta = v['rope_theta'];
    }
  }
  return theta;
}

/** Attention window, when one applies to some layer (its length caps the usable context). */
function slidingWindow(r: ConfigReader, family: Family, L: number): number | null {
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

function dtypeOf(r: ConfigReader): DType {
  const v = r.c['torch_dtype'] ?? r.c['dtype'];
  return (typeof v === 'string' && TORCH_DTYPES[v]) || 'F32';
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
  return family === 'gpt2' ? describeGpt2(r, displayName) : describeRopeFamily(r, family, displayName);
}

function describeRopeFamily(r: ConfigReader, family: Exclude<Family, 'gpt2'>, name: string): ModelDescription {
  const file = r.file;
  const def = DEFAULTS[family];
  const V = r.dim('vocab_size');
  const D = r.dim('hidden_size');
  const L = r.dim('num_hidden_layers');
  const H = r.dim('num_attention_heads');
  const I = r.dim('intermediate_size');
  // Absent: the class default; null: the class replaces it by H (and head_dim by D/H).
  const Hkv = r.c['num_key_value_heads'] === undefined && def.kvHeads !== 'H' ? def.kvHeads : r.dim('num_key_value_heads', H);
  // Absent head_dim: the class default (Qwen3: 128) or D/H; null: D/H.
  const classHeadDim = r.c['head_dim'] === undefined && def.headDim !== 'D/H' ? def.headDim : null;
  if (!r.has('head_dim') && classHeadDim === null && D % H !== 0) {
    mismatch(file, `hidden_size (${D}) is not divisible by num_attention_heads (${H}) and there is no head_dim`);
  }
  const dh = r.has('head_dim') ? r.dim('head_dim') : (classHeadDim ?? D / H);
  if (H % Hkv !== 0) mismatch(file, `num_attention_heads (${H}) is not a multiple of num_key_value_heads (${Hkv})`);
  if (dh % 2 !== 0) mismatch(file, `head_dim (${dh}) must be even for rotary position embeddings`);

  const act = r.string('hidden_act') ?? 'silu';
  if (act !== 'silu' && act !== 'swish') unsupported(file, `hidden_act '${act}' is not supported for ${family} models (only silu)`);
  const ropeTheta = checkRope(r) ?? r.positive('rope_theta', 10000);

  let maxPositions = r.dim('max_position_embeddings', def.maxPositions);
  const window = slidingWindow(r, family, L);
  if (window !== null) maxPositions = Math.min(maxPositions, window);

  const attentionBias = family === 'llama' || family === 'qwen3' ? r.bool('attention_bias', false) : false;
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
    norm_eps: r.positive('rms_norm_eps', 1e-6),
    mlpKind: 'gated',
    hidden_act: 'silu',
    positionKind: 'rope',
    rope_theta: ropeTheta,
    hasQkvBias: family === 'qwen2' || attentionBias,
    hasOBias: attentionBias,
    hasMlpBias: mlpBias,
    hasQkNorm: family === 'qwen3',
    tie_word_embeddings: r.bool('tie_word_embeddings', false),
    bos_token_id: r.tokenId('bos_token_id', def.bos),
    eos_token_ids: r.tokenIds('eos_token_id', def.eos),
    dtype: dtypeOf(r),
  };
}

const GPT2_ACTIVATIONS: Readonly<Record<string, ModelDescription['hidden_act']>> = {
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh', // the same tanh approximation, written differently
  gelu: 'gelu',
};

function describeGpt2(r: ConfigReader, name: string): ModelDescription {
  const file = r.file;
  const V = r.dim('vocab_size');
  const D = r.dim('n_embd');
  const L = r.dim('n_layer');
  const H = r.dim('n_head');
  const I = r.dim('n_inner', 4 * D);
  if (D % H !== 0) mismatch(file, `n_embd (${D}) is not divisible by n_head (${H})`);
  const act = r.string('activation_function') ?? 'gelu_new';
  const hiddenAct = GPT2_ACTIVATIONS[act];
  if (!hiddenAct) unsupported(file, `activation_function '${act}' is not supported (gelu_new, gelu_pytorch_tanh, gelu_fast or gelu)`);
  if (r.bool('add_cross_attention', false)) unsupported(file, 'add_cross_attention is not supported (decoder-only models)');
  if (!r.bool('scale_attn_weights', true)) unsupported(file, 'scale_attn_weights false is not supported');
  if (r.bool('scale_attn_by_inverse_layer_idx', false)) unsupported(file, 'scale_attn_by_inverse_layer_idx is not supported');
  return {
    name,
    family: 'gpt2',
    vocab_size: V,
    hidden_size: D,
    num_hidden_layers: L,
    num_attention_heads: H,
    num_key_value_heads: H,
    head_dim: D / H,
    intermediate_size: I,
    max_position_embeddings: r.dim('n_positions', 1024),
    normKind: 'layer',
    norm_eps: r.positive('layer_norm_epsilon', 1e-5),
    mlpKind: 'plain',
    hidden_act: hiddenAct,
    positionKind: 'learned',
    rope_theta: 0,
    hasQkvBias: true,
    hasOBias: true,
    hasMlpBias: true,
    hasQkNorm: false,
    tie_word_embeddings: r.bool('tie_word_embeddings', true),
    bos_token_id: r.tokenId('bos_token_id', 50256),
    eos_token_ids: r.tokenIds('eos_token_id', 50256),
    dtype: dtypeOf(r),
  };
}
