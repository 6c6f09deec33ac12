// llama2.c legacy (v0) checkpoints: a 7-int32 header and f32 arrays stacked over layers, turned
// into the same description and Hugging Face-layout weights a safetensors Llama gives (q/k rows
// moved from interleaved to rotate-half RoPE order). Versioned (v1, v2) exports are refused.

import { type LayerWeights, type ModelDescription, type ModelWeights, plainRopeFeatures, type Tensor } from './description';
import { ModelFormatError } from './errors';
import { baseName, readBytes, type ModelFile } from './files';

/** "ak42" read as a little-endian uint32: the start of llama2.c's versioned exports. */
export const LLAMA2C_MAGIC = 0x616b3432;
const HEADER_BYTES = 28;

export interface Llama2cHeader {
  dim: number; // D
  hidden_dim: number; // I
  n_layers: number; // L
  n_heads: number; // H
  n_kv_heads: number; // Hkv
  vocab_size: number; // V (the absolute value of the stored field)
  seq_len: number;
  /** A positive stored vocab_size: the classifier is the token embedding. */
  shared_classifier: boolean;
}

/** Byte size of every array after the header, in file order (f32 elements, as BigInt to survive absurd headers). */
function layout(h: Llama2cHeader) {
  const D = BigInt(h.dim);
  const I = BigInt(h.hidden_dim);
  const L = BigInt(h.n_layers);
  const dh = BigInt(h.dim / h.n_heads);
  const qDim = BigInt(h.n_heads) * dh;
  const kvDim = BigInt(h.n_kv_heads) * dh;
  const V = BigInt(h.vocab_size);
  const P = BigInt(h.seq_len);
  const arrays: [string, bigint][] = [
    ['token_embedding_table', V * D],
    ['rms_att_weight', L * D],
    ['wq', L * qDim * D],
    ['wk', L * kvDim * D],
    ['wv', L * kvDim * D],
    ['wo', L * D * qDim],
    ['rms_ffn_weight', L * D],
    ['w1', L * I * D],
    ['w2', L * D * I],
    ['w3', L * I * D],
    ['rms_final_weight', D],
    ['freq_cis_real', (P * dh) / 2n],
    ['freq_cis_imag', (P * dh) / 2n],
  ];
  if (!h.shared_classifier) arrays.push(['wcls', V * D]);
  const offsets = new Map<string, bigint>();
  let offset = BigInt(HEADER_BYTES);
  for (const [name, count] of arrays) {
    offsets.set(name, offset);
    offset += 4n * count;
  }
  return { offsets, size: offset };
}

/** Reads and validates the header, including the exact file size it implies. */
export async function readLlama2cHeader(file: ModelFile): Promise<Llama2cHeader> {
  const path = file.path;
  const size = file.blob.size;
  if (size >= 8) {
    const head = new DataView((await readBytes(file, 0, 8)).buffer);
    if (head.getUint32(0, true) === LLAMA2C_MAGIC) {
      const version = head.getInt32(4, true);
      throw new ModelFormatError(
        'unsupported',
        path,
        `llama2.c version ${version} export (magic "ak42") is not supported; export the legacy format with \`python export.py --version 0\``,
      );
    }
  }
  if (size < HEADER_BYTES) throw new ModelFormatError('truncated', path, `${size} bytes is too short for a llama2.c header (28 bytes)`);
  const v = new DataView((await readBytes(file, 0, HEADER_BYTES)).buffer);
  const field = (i: number) => v.getInt32(4 * i, true);
  const names = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'];
  const fields = names.map((_, i) => field(i));
  fields.forEach((value, i) => {
    const positive = i === 5 ? value !== 0 : value > 0;
    if (!positive) throw new ModelFormatError('bad-header', path, `${names[i]} = ${value} in the llama2.c header must be ${i === 5 ? 'non-zero' : 'positive'}`);
  });
  const [dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab, seq_len] = fields as [number, number, number, number, number, number, number];
  if (dim % n_heads !== 0) throw new ModelFormatError('bad-header', path, `dim = ${dim} is not divisible by n_heads = ${n_heads}`);
  if (n_heads % n_kv_heads !== 0) throw new ModelFormatError('bad-header', path, `n_heads = ${n_heads} is not a multiple of n_kv_heads = ${n_kv_heads}`);
  if ((dim / n_heads) % 2 !== 0) throw new ModelFormatError('bad-header', path, `head size ${dim / n_heads} must be even for rotary position embeddings`);
  const header: Llama2cHeader = { dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size: Math.abs(vocab), seq_len, shared_classifier: vocab > 0 };
  const expected = layout(header).size;
  if (BigInt(size) !== expected) {
    throw new ModelFormatError(
      BigInt(size) < expected ? 'truncated' : 'bad-header',
      path,
      `file is ${size} bytes but its header [${fields.join(', ')}] implies ${expected} bytes of f32 weights (is it a llama2.c legacy export?)`,
    );
  }
  return header;
}

/** The description of a llama2.c model: llama2.c's fixed RMSNorm eps and RoPE theta; BOS also stops. */
export function llama2cDescription(h: Llama2cHeader, name: string): ModelDescription {
  return {
    name,
    family: 'llama',
    vocab_size: h.vocab_size,
    hidden_size: h.dim,
    num_hidden_layers: h.n_layers,
    num_attention_heads: h.n_heads,
    num_key_value_heads: h.n_kv_heads,
    head_dim: h.dim / h.n_heads,
    intermediate_size: h.hidden_dim,
    max_position_embeddings: h.seq_len,
    normKind: 'rms',
    norm_eps: 1e-5,
    mlpKind: 'gated',
    hidden_act: 'silu',
    ...plainRopeFeatures(h.n_layers, h.dim / h.n_heads, 10000),
    hasQkvBias: false,
    hasOBias: false,
    hasMlpBias: false,
    tie_word_embeddings: h.shared_classifier,
    bos_token_id: 1,
    // llama2.c training data separates stories with BOS, so BOS ends generation as well as EOS.
    eos_token_ids: [2, 1],
    dtype: 'F32',
  };
}

/**
 * Rows of q or k [heads*dh, D] from llama2.c's interleaved pairs (2i, 2i+1) to Hugging Face's
 * halves (i, i + dh/2): new row j of a head is old row 2j for j < dh/2, else 2(j - dh/2) + 1.
 */
function toRotateHalf(bytes: Uint8Array, heads: number, dh: number, D: number): Uint8Array<ArrayBuffer> {
  const row = 4 * D;
  const out = new Uint8Array(bytes.byteLength);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < dh; j++) {
      const old = j < dh / 2 ? 2 * j : 2 * (j - dh / 2) + 1;
      out.set(bytes.subarray((h * dh + old) * row, (h * dh + old + 1) * row), (h * dh + j) * row);
    }
  }
  return out;
}

/** Reads a legacy llama2.c checkpoint into Hugging Face Llama layout (names included). */
export async function readLlama2c(file: ModelFile): Promise<{ description: ModelDescription; weights: ModelWeights }> {
  const h = await readLlama2cHeader(file);
  const name = baseName(file.path).replace(/\.bin$/i, '');
  const description = llama2cDescription(h, name);
  const { offsets } = layout(h);
  const D = h.dim;
  const I = h.hidden_dim;
  const dh = h.dim / h.n_heads;
  const qDim = h.n_heads * dh; // H*dh
  const kvDim = h.n_kv_heads * dh; // Hkv*dh

  // Layer l's slice of a stacked array of per-layer shape `shape`.
  const read = async (array: string, shape: number[], l = 0, tensorName = array): Promise<Tensor> => {
    const count = shape.reduce((a, b) => a * b, 1);
    const start = Number(offsets.get(array)!) + 4 * count * l;
    const bytes = await readBytes(file, start, start + 4 * count);
    if (bytes.byteLength !== 4 * count) throw new ModelFormatError('truncated', file.path, `short read of ${array}`, tensorName);
    return { name: tensorName, dtype: 'F32', shape, bytes };
  };

  const embed_tokens = await read('token_embedding_table', [h.vocab_size, D], 0, 'model.embed_tokens.weight'); // [V, D]
  const layers: LayerWeights[] = [];
  for (let l = 0; l < h.n_layers; l++) {
    const p = `model.layers.${l}`;
    const q = await read('wq', [qDim, D], l, `${p}.self_attn.q_proj.weight`); // [H*dh, D]
    const k = await read('wk', [kvDim, D], l, `${p}.self_attn.k_proj.weight`); // [Hkv*dh, D]
    q.bytes = toRotateHalf(q.bytes, h.n_heads, dh, D);
    k.bytes = toRotateHalf(k.bytes, h.n_kv_heads, dh, D);
    layers.push({
      input_layernorm: { weight: await read('rms_att_weight', [D], l, `${p}.input_layernorm.weight`) }, // [D]
      q_proj: { weight: q },
      k_proj: { weight: k },
      v_proj: { weight: await read('wv', [kvDim, D], l, `${p}.self_attn.v_proj.weight`) }, // [Hkv*dh, D]
      o_proj: { weight: await read('wo', [D, qDim], l, `${p}.self_attn.o_proj.weight`) }, // [D, H*dh]
      post_attention_layernorm: { weight: await read('rms_ffn_weight', [D], l, `${p}.post_attention_layernorm.weight`) }, // [D]
      gate_proj: { weight: await read('w1', [I, D], l, `${p}.mlp.gate_proj.weight`) }, // [I, D]
      down_proj: { weight: await read('w2', [D, I], l, `${p}.mlp.down_proj.weight`) }, // [D, I]
      up_proj: { weight: await read('w3', [I, D], l, `${p}.mlp.up_proj.weight`) }, // [I, D]
    });
  }
  const norm = { weight: await read('rms_final_weight', [D], 0, 'model.norm.weight') }; // [D]
  const lm_head = h.shared_classifier ? embed_tokens : await read('wcls', [h.vocab_size, D], 0, 'lm_head.weight'); // [V, D]
  return { description, weights: { embed_tokens, layers, norm, lm_head } };
}
