// Seeded random tiny models of every supported family, for tests across the project: the
// description and weights a checkpoint loader would return, with scales that keep activations
// O(1). Not a checkpoint writer (see serialize.ts) and not a trained model: the numbers mean nothing.

import type { DType, Family, LayerWeights, Linear, ModelDescription, ModelWeights, Norm, Tensor } from '../description';
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

const ROPE_FAMILIES: readonly Family[] = ['llama', 'mistral', 'qwen2', 'qwen3'];

/** The description a config.json for these options describes (see serialize.ts hfConfig). */
export function randomDescription(opts: RandomModelOptions): ModelDescription {
  const family = opts.family;
  const gpt2 = family === 'gpt2';
  const D = opts.hidden_size ?? 32;
  const H = opts.num_attention_heads ?? 4;
  const Hkv = opts.num_key_value_heads ?? (gpt2 ? H : Math.max(1, Math.floor(H / 2)));
  const dh = opts.head_dim ?? D / H;
  const I = opts.intermediate_size ?? (gpt2 ? 4 * D : Math.floor((3 * D) / 2));
  const V = opts.vocab_size ?? 64;
  const L = opts.num_hidden_layers ?? 2;
  const P = opts.max_position_embeddings ?? 64;

  for (const [key, v] of Object.entries({ D, H, Hkv, dh, I, V, L, P })) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`randomModel: ${key} = ${v} must be a positive integer`);
  }
  if (H % Hkv !== 0) throw new Error(`randomModel: H = ${H} is not a multiple of Hkv = ${Hkv}`);
  if (dh % 2 !== 0 && !gpt2) throw new Error(`randomModel: RoPE needs an even head_dim, got ${dh}`);
  if (gpt2 && (Hkv !== H || dh * H !== D)) throw new Error('randomModel: GPT-2 needs Hkv = H and dh = D / H');
  if (opts.attention_bias && !(family === 'llama' || family === 'qwen3')) {
    throw new Error(`randomModel: attention_bias is not a ${family} option`);
  }
  if (opts.mlp_bias && family !== 'llama') throw new Error(`randomModel: mlp_bias is not a ${family} option`);
  if (opts.sliding_window != null && family !== 'mistral') throw new Error('randomModel: sliding_window is a mistral option');

  const qwen = family === 'qwen2' || family === 'qwen3';
  const attentionBias = opts.attention_bias ?? false;
  const window = opts.sliding_window ?? null;
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
    max_position_embeddings: window !== null ? Math.min(P, window) : P,
    normKind: gpt2 ? 'layer' : 'rms',
    norm_eps: opts.norm_eps ?? (qwen ? 1e-6 : 1e-5),
    mlpKind: gpt2 ? 'plain' : 'gated',
    hidden_act: gpt2 ? 'gelu_tanh' : 'silu',
    positionKind: gpt2 ? 'learned' : 'rope',
    rope_theta: gpt2 ? 0 : (opts.rope_theta ?? 10000),
    hasQkvBias: gpt2 || family === 'qwen2' || attentionBias,
    hasOBias: gpt2 || attentionBias,
    hasMlpBias: gpt2 || (opts.mlp_bias ?? false),
    hasQkNorm: family === 'qwen3',
    tie_word_embeddings: opts.tie_word_embeddings ?? gpt2,
    bos_token_id: gpt2 ? V - 1 : qwen ? V - 2 : 1,
    eos_token_ids: gpt2 || qwen ? [V - 1] : [2],
    dtype: opts.dtype ?? 'F32',
  };
}

/** A random model; the same options and seed always give the same bytes. */
export function randomModel(opts: RandomModelOptions): RandomModel {
  if (!ROPE_FAMILIES.includes(opts.family) && opts.family !== 'gpt2') throw new Error(`randomModel: unknown family ${opts.family}`);
  const desc = randomDescription(opts);
  const normal = seededNormal(opts.seed ?? 1);
  const dtype = desc.dtype;
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
    gpt2 ? { weight: gamma(`${name}.weight`, n), bias: bias(`${name}.bias`, n) } : { weight: gamma(`${name}.weight`, n) };

  // Names are those loadCheckpoint gives: the file's names, GPT-2's split c_attn marked [q]/[k]/[v].
  const embed_tokens = tensor(gpt2 ? 'wte.weight' : 'model.embed_tokens.weight', [V, D], normal); // [V, D]
  const embed_positions = gpt2 ? tensor('wpe.weight', [desc.max_position_embeddings, D], () => 0.3 * normal()) : undefined; // [P, D]

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
    const layer: LayerWeights = {
      input_layernorm: norm(`${p}.input_layernorm`, D),
      q_proj: linear(`${p}.self_attn.q_proj`, qDim, D, desc.hasQkvBias), // [H*dh, D]
      k_proj: linear(`${p}.self_attn.k_proj`, kvDim, D, desc.hasQkvBias), // [Hkv*dh, D]
      v_proj: linear(`${p}.self_attn.v_proj`, kvDim, D, desc.hasQkvBias), // [Hkv*dh, D]
      o_proj: linear(`${p}.self_attn.o_proj`, D, qDim, desc.hasOBias), // [D, H*dh]
      post_attention_layernorm: norm(`${p}.post_attention_layernorm`, D),
      gate_proj: linear(`${p}.mlp.gate_proj`, I, D, desc.hasMlpBias), // [I, D]
      up_proj: linear(`${p}.mlp.up_proj`, I, D, desc.hasMlpBias), // [I, D]
      down_proj: linear(`${p}.mlp.down_proj`, D, I, desc.hasMlpBias), // [D, I]
    };
    if (desc.hasQkNorm) {
      layer.q_norm = norm(`${p}.self_attn.q_norm`, dh); // [dh]
      layer.k_norm = norm(`${p}.self_attn.k_norm`, dh); // [dh]
    }
    layers.push(layer);
  }

  const finalNorm = norm(gpt2 ? 'ln_f' : 'model.norm', D); // [D]
  const lm_head = desc.tie_word_embeddings ? embed_tokens : matrix('lm_head.weight', V, D); // [V, D]
  const weights: ModelWeights = { embed_tokens, layers, norm: finalNorm, lm_head };
  if (embed_positions) weights.embed_positions = embed_positions;
  return { description: desc, weights };
}
