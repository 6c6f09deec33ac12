// Seeded random tiny models of every supported family, for tests across the project: the
// description and weights a checkpoint loader would return, with scales that keep activations
// O(1). Not a checkpoint writer (see serialize.ts) and not a trained model: the numbers mean nothing.

import type { DType, Family, LayerWeights, Linear, ModelDescription, ModelWeights, Norm, RopeScaling, Tensor } from '../description';
import { float32ToTensorBytes } from '../dtype';

export interface RandomModelOptions {
  family: Family;
  /** V; default 64. */
  vocab_size?: number;
  /** D; default 32. */
  hidden_size?: number;
  /** L; default 2. */
  num_hidden_layers?: number;
  /** H; default 4. */
  num_attention_heads?: number;
  /** Hkv; default H/2 for the RoPE families (so GQA is exercised), H for GPT-2 (which needs H). */
  num_key_value_heads?: number;
  /** dh; default D/H. May differ from D/H except for GPT-2. */
  head_dim?: number;
  /** I; default 4D for GPT-2, 3D/2 otherwise. */
  intermediate_size?: number;
  /** Default 64 (GPT-2: rows of the learned position table). */
  max_position_embeddings?: number;
  /** File dtype of every tensor; default 'F32'. */
  dtype?: DType;
  /** Default as the family's Hugging Face config class: false, except GPT-2 (true). */
  tie_word_embeddings?: boolean;
  /** Llama and Qwen3: biases on q, k, v and o projections. */
  attention_bias?: boolean;
  /** Llama: biases on gate, up and down projections. */
  mlp_bias?: boolean;
  /** Mistral: attention window written to config.json (caps max_position_embeddings). */
  sliding_window?: number | null;
  /** Per-layer sliding window of the windowed families (GPT-Neo, Gemma 2/3; Phi-3 when set); default 3. */
  window?: number;
  /** Fraction of head_dim that is rotated (default: 0.5 for GPT-NeoX, else 1). */
  rotary_fraction?: number;
  rope_scaling?: RopeScaling;
  /** GPT-NeoX: both branches read the layer input (default true). */
  parallel_residual?: boolean;
  /** Gemma 2/3 score scale is 1/sqrt(this) (default 2 * head_dim, so that it differs from head_dim). */
  query_pre_attn_scalar?: number;
  /** Gemma 2 caps (defaults 2 and 5: small, so that they matter for random weights). */
  attn_logit_softcapping?: number;
  final_logit_softcapping?: number;
  rope_theta?: number;
  norm_eps?: number;
  seed?: number;
  name?: string;
}

export interface RandomModel {
  description: ModelDescription;
  weights: ModelWeights;
}

/** mulberry32: small, fast, and good enough to make test weights reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller) from a uniform source. */
export function seededNormal(seed: number): () => number {
  const uniform = seededRandom(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - uniform(); // (0, 1]
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

const LAYER_NORM_FAMILIES: readonly Family[] = ['gpt2', 'gpt_neo', 'gpt_neox'];
const LEARNED_POSITIONS: readonly Family[] = ['gpt2', 'gpt_neo'];
const GEMMA: readonly Family[] = ['gemma', 'gemma2', 'gemma3_text'];

/** The description a config.json for these options describes (see serialize.ts hfConfig). */
export function randomDescription(opts: RandomModelOptions): ModelDescription {
  const family = opts.family;
  const layerNorm = LAYER_NORM_FAMILIES.includes(family);
  const learned = LEARNED_POSITIONS.includes(family);
  const gemma = GEMMA.includes(family);
  const D = opts.hidden_size ?? 32;
  const H = opts.num_attention_heads ?? 4;
  const Hkv = opts.num_key_value_heads ?? (layerNorm ? H : Math.max(1, Math.floor(H / 2)));
  const dh = opts.head_dim ?? D / H;
  const I = opts.intermediate_size ?? (layerNorm ? 4 * D : Math.floor((3 * D) / 2));
  const V = opts.vocab_size ?? 64;
  const L = opts.num_hidden_layers ?? 2;
  const P = opts.max_position_embeddings ?? 64;

  for (const [key, v] of Object.entries({ D, H, Hkv, dh, I, V, L, P })) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`randomModel: ${key} = ${v} must be a positive integer`);
  }
  if (H % Hkv !== 0) throw new Error(`randomModel: H = ${H} is not a multiple of Hkv = ${Hkv}`);
  if (dh % 2 !== 0 && !learned) throw new Error(`randomModel: RoPE needs an even head_dim, got ${dh}`);
  if (layerNorm && (Hkv !== H || dh * H !== D)) throw new Error(`randomModel: ${family} needs Hkv = H and dh = D / H`);
  if (opts.attention_bias && !['llama', 'qwen3', 'gemma', 'gemma2', 'gemma3_text', 'olmo2'].includes(family)) {
    throw new Error(`randomModel: attention_bias is not a ${family} option`);
  }
  if (opts.mlp_bias && family !== 'llama') throw new Error(`randomModel: mlp_bias is not a ${family} option`);
  if (opts.sliding_window != null && family !== 'mistral')
    throw new Error('randomModel: sliding_window is a mistral option (use window for per-layer windows)');

  const qwen = family === 'qwen2' || family === 'qwen3';
  const attentionBias = opts.attention_bias ?? false;
  const capping = opts.sliding_window ?? null;
  const theta = opts.rope_theta ?? (family === 'gemma3_text' ? 1_000_000 : 10000);
  // Rotated dims: a partial fraction, even.
  const fraction = opts.rotary_fraction ?? (family === 'gpt_neox' ? 0.5 : 1);
  const rotDim = Math.max(2, Math.floor(dh * fraction) - (Math.floor(dh * fraction) % 2));
  const types: ('full' | 'sliding')[] = Array.from({ length: L }, (_, l) => {
    if (family === 'gpt_neo') return l % 2 === 0 ? 'full' : 'sliding';
    if (family === 'gemma2') return l % 2 === 0 ? 'sliding' : 'full';
    if (family === 'gemma3_text') return (l + 1) % 2 === 0 ? 'full' : 'sliding';
    if (family === 'phi3' && opts.window) return 'sliding';
    return 'full';
  });
  const windowed = types.includes('sliding');
  const postNorms = family === 'gemma2' || family === 'gemma3_text' || family === 'olmo2';
  return {
    name: opts.name ?? `random-${family}`,
    family,
    vocab_size: V,
    hidden_size: D,
    num_hidden_layers: L,
    num_attention_heads: H,
    num_key_value_heads: Hkv,
    head_dim: dh,
    intermediate_size: I,
    max_position_embeddings: capping !== null ? Math.min(P, capping) : P,
    normKind: layerNorm ? 'layer' : 'rms',
    norm_eps: opts.norm_eps ?? (qwen ? 1e-6 : 1e-5),
    mlpKind: layerNorm ? 'plain' : 'gated',
    hidden_act: family === 'gpt_neox' ? 'gelu' : layerNorm || gemma ? 'gelu_tanh' : 'silu',
    positionKind: learned ? 'learned' : 'rope',
    rope: learned ? null : { theta, dim: rotDim, local_theta: family === 'gemma3_text' ? 10000 : null, scaling: opts.rope_scaling ?? { kind: 'none' } },
    embedding_scale: gemma ? Math.fround(Math.sqrt(D)) : 1,
    layer_types: types,
    sliding_window: windowed ? (opts.window ?? 3) : null,
    attention_scale:
      family === 'gpt_neo' ? 1 : family === 'gemma2' || family === 'gemma3_text' ? 1 / Math.sqrt(opts.query_pre_attn_scalar ?? 2 * dh) : 1 / Math.sqrt(dh),
    attn_logit_softcapping: family === 'gemma2' ? (opts.attn_logit_softcapping ?? 2) : null,
    final_logit_softcapping: family === 'gemma2' ? (opts.final_logit_softcapping ?? 5) : null,
    hasQkvBias: family === 'gpt2' || family === 'gpt_neox' || family === 'qwen2' || attentionBias,
    hasOBias: layerNorm || attentionBias,
    hasMlpBias: layerNorm || (opts.mlp_bias ?? false),
    qkNorm: family === 'qwen3' || family === 'gemma3_text' ? 'head' : family === 'olmo2' ? 'projection' : 'none',
    hasPreNorms: family !== 'olmo2',
    hasPostNorms: postNorms,
    parallelResidual: family === 'gpt_neox' && (opts.parallel_residual ?? true),
    tie_word_embeddings: opts.tie_word_embeddings ?? (family === 'gpt2' || family === 'gpt_neo' || gemma),
    bos_token_id: layerNorm ? V - 1 : qwen ? V - 2 : 1,
    eos_token_ids: layerNorm || qwen ? [V - 1] : [2],
    dtype: opts.dtype ?? 'F32',
  };
}

/** A random model; the same options and seed always give the same bytes. */
export function randomModel(opts: RandomModelOptions): RandomModel {
  const desc = randomDescription(opts);
  const normal = seededNormal(opts.seed ?? 1);
  const dtype = desc.dtype;
  const layerNorm = desc.normKind === 'layer';
  const gpt2 = desc.family === 'gpt2';
  const { hidden_size: D, intermediate_size: I, vocab_size: V, head_dim: dh } = desc;
  const qDim = desc.num_attention_heads * dh; // H*dh
  const kvDim = desc.num_key_value_heads * dh; // Hkv*dh

  const tensor = (name: string, shape: number[], sample: () => number): Tensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = sample();
    return { name, dtype, shape, bytes: float32ToTensorBytes(data, dtype) };
  };
  // N(0, 1/sqrt(fan_in)) keeps each projection's output variance near its input's.
  const matrix = (name: string, out: number, inp: number) => tensor(name, [out, inp], () => normal() / Math.sqrt(inp));
  const bias = (name: string, n: number) => tensor(name, [n], () => 0.1 * normal());
  const gamma = (name: string, n: number) => tensor(name, [n], () => 1 + 0.1 * normal());
  const linear = (name: string, out: number, inp: number, withBias: boolean): Linear =>
    withBias ? { weight: matrix(`${name}.weight`, out, inp), bias: bias(`${name}.bias`, out) } : { weight: matrix(`${name}.weight`, out, inp) };
  const norm = (name: string, n: number): Norm =>
    layerNorm ? { weight: gamma(`${name}.weight`, n), bias: bias(`${name}.bias`, n) } : { weight: gamma(`${name}.weight`, n) };

  // Names are those loadCheckpoint gives: the file's names, GPT-2's split c_attn marked [q]/[k]/[v].
  const embed_tokens = tensor(gpt2 ? 'wte.weight' : 'model.embed_tokens.weight', [V, D], normal); // [V, D]
  const embed_positions = desc.positionKind === 'learned' ? tensor('wpe.weight', [desc.max_position_embeddings, D], () => 0.3 * normal()) : undefined; // [P, D]

  const layers: LayerWeights[] = [];
  for (let l = 0; l < desc.num_hidden_layers; l++) {
    if (gpt2) {
      const p = `h.${l}`;
      const cAttn = (part: string, kind: 'weight' | 'bias') => `${p}.attn.c_attn.${kind}[${part}]`;
      const split = (part: string): Linear => ({ weight: matrix(cAttn(part, 'weight'), D, D), bias: bias(cAttn(part, 'bias'), D) });
      layers.push({
        input_layernorm: norm(`${p}.ln_1`, D),
        q_proj: split('q'), // [D, D]
        k_proj: split('k'),
        v_proj: split('v'),
        o_proj: linear(`${p}.attn.c_proj`, D, D, true),
        post_attention_layernorm: norm(`${p}.ln_2`, D),
        up_proj: linear(`${p}.mlp.c_fc`, I, D, true), // [I, D]
        down_proj: linear(`${p}.mlp.c_proj`, D, I, true), // [D, I]
      });
      continue;
    }
    const p = `model.layers.${l}`;
    // Drawn in this order so that the families that existed first keep their seeded weights.
    const pre = desc.hasPreNorms;
    const post = desc.hasPostNorms;
    const layer: LayerWeights = {} as LayerWeights;
    if (pre) layer.input_layernorm = norm(`${p}.input_layernorm`, D);
    layer.q_proj = linear(`${p}.self_attn.q_proj`, qDim, D, desc.hasQkvBias); // [H*dh, D]
    layer.k_proj = linear(`${p}.self_attn.k_proj`, kvDim, D, desc.hasQkvBias); // [Hkv*dh, D]
    layer.v_proj = linear(`${p}.self_attn.v_proj`, kvDim, D, desc.hasQkvBias); // [Hkv*dh, D]
    layer.o_proj = linear(`${p}.self_attn.o_proj`, D, qDim, desc.hasOBias); // [D, H*dh]
    if (post) layer.attn_output_norm = norm(`${p}.attn_output_norm`, D);
    if (pre) layer.post_attention_layernorm = norm(`${p}.post_attention_layernorm`, D);
    if (desc.mlpKind === 'gated') layer.gate_proj = linear(`${p}.mlp.gate_proj`, I, D, desc.hasMlpBias); // [I, D]
    layer.up_proj = linear(`${p}.mlp.up_proj`, I, D, desc.hasMlpBias); // [I, D]
    layer.down_proj = linear(`${p}.mlp.down_proj`, D, I, desc.hasMlpBias); // [D, I]
    if (post) layer.mlp_output_norm = norm(`${p}.mlp_output_norm`, D);
    if (desc.qkNorm !== 'none') {
      const whole = desc.qkNorm === 'projection';
      layer.q_norm = norm(`${p}.self_attn.q_norm`, whole ? qDim : dh); // [dh] or [H*dh]
      layer.k_norm = norm(`${p}.self_attn.k_norm`, whole ? kvDim : dh); // [dh] or [Hkv*dh]
    }
    layers.push(layer);
  }

  const finalNorm = norm(gpt2 ? 'ln_f' : 'model.norm', D); // [D]
  const lm_head = desc.tie_word_embeddings ? embed_tokens : matrix('lm_head.weight', V, D); // [V, D]
  const weights: ModelWeights = { embed_tokens, layers, norm: finalNorm, lm_head };
  if (embed_positions) weights.embed_positions = embed_positions;
  return { description: desc, weights };
}
