// Writes a model (description + weights) back to disk formats for tests: a Hugging Face folder
// (config.json with the family's real keys, safetensors with its real tensor names, optionally
// sharded) and a llama2.c legacy .bin. The layout code here is written independently of the
// importers so that a round trip through them is a real test.

import { bytesPerElement, type DType, type ModelDescription, type ModelWeights, type Tensor } from '../description';
import { tensorToFloat32 } from '../dtype';
import type { ModelFile } from '../files';
import { encodeSafetensors, type RawTensor } from './safetensors-writer';

export interface HfFilesOptions {
  /** Leading folder for every path ('tiny' gives 'tiny/config.json'). */
  folder?: string;
  /** More than 1: model-0000k-of-0000n.safetensors files plus model.safetensors.index.json. */
  shards?: number;
  /** Tensor-name prefix; default 'model.' for the RoPE families, '' for GPT-2 ('transformer.' is valid too). */
  prefix?: string;
  /** GPT-2: also write the h.{i}.attn.bias / masked_bias buffers that PyTorch exports carry. */
  gpt2Buffers?: boolean;
  /** Keys merged over the generated config.json (undefined deletes a key). */
  configOverrides?: Record<string, unknown>;
}

const TORCH_DTYPE: Record<DType, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/** config.json for a description, with the keys Hugging Face's config class for the family uses. */
export function hfConfig(d: ModelDescription): Record<string, unknown> {
  const eos = d.eos_token_ids.length === 1 ? d.eos_token_ids[0] : d.eos_token_ids;
  if (d.family === 'gpt2') {
    const config: Record<string, unknown> = {
      _name_or_path: d.name,
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: d.vocab_size,
      n_embd: d.hidden_size,
      n_layer: d.num_hidden_layers,
      n_head: d.num_attention_heads,
      n_positions: d.max_position_embeddings,
      n_ctx: d.max_position_embeddings,
      n_inner: d.intermediate_size === 4 * d.hidden_size ? null : d.intermediate_size,
      activation_function: d.hidden_act === 'gelu' ? 'gelu' : 'gelu_new',
      layer_norm_epsilon: d.norm_eps,
      attn_pdrop: 0.1,
      embd_pdrop: 0.1,
      resid_pdrop: 0.1,
      scale_attn_weights: true,
      bos_token_id: d.bos_token_id,
      eos_token_id: eos,
      torch_dtype: TORCH_DTYPE[d.dtype],
    };
    if (!d.tie_word_embeddings) config['tie_word_embeddings'] = false;
    return config;
  }
  const architectures: Partial<Record<ModelDescription['family'], string>> = {
    llama: 'LlamaForCausalLM',
    mistral: 'MistralForCausalLM',
    qwen2: 'Qwen2ForCausalLM',
    qwen3: 'Qwen3ForCausalLM',
  };
  if (!architectures[d.family]) throw new Error(`hfConfig: ${d.family} models come from the reference library's fixtures, not from this writer`);
  const config: Record<string, unknown> = {
    _name_or_path: d.name,
    architectures: [architectures[d.family]],
    model_type: d.family,
    vocab_size: d.vocab_size,
    hidden_size: d.hidden_size,
    intermediate_size: d.intermediate_size,
    num_hidden_layers: d.num_hidden_layers,
    num_attention_heads: d.num_attention_heads,
    num_key_value_heads: d.num_key_value_heads,
    head_dim: d.head_dim,
    max_position_embeddings: d.max_position_embeddings,
    rms_norm_eps: d.norm_eps,
    rope_theta: d.rope!.theta,
    rope_scaling: null,
    hidden_act: 'silu',
    attention_dropout: 0.0,
    tie_word_embeddings: d.tie_word_embeddings,
    bos_token_id: d.bos_token_id,
    eos_token_id: eos,
    torch_dtype: TORCH_DTYPE[d.dtype],
  };
  if (d.family === 'llama') {
    config['attention_bias'] = d.hasQkvBias;
    config['mlp_bias'] = d.hasMlpBias;
  }
  if (d.family === 'mistral') config['sliding_window'] = null;
  if (d.family === 'qwen2' || d.family === 'qwen3') {
    config['use_sliding_window'] = false;
    config['sliding_window'] = d.max_position_embeddings;
    config['max_window_layers'] = d.num_hidden_layers;
  }
  // Real Qwen2 configs have no head_dim (it is D/H); keep that shape when it holds.
  if (d.family === 'qwen2' && d.head_dim * d.num_attention_heads === d.hidden_size) delete config['head_dim'];
  if (d.family === 'qwen3') config['attention_bias'] = d.hasOBias;
  return config;
}

/** [rows, cols] -> [cols, rows] on raw little-endian elements. */
function transposed(t: Tensor): Uint8Array {
  const [rows, cols] = t.shape as [number, number];
  const size = bytesPerElement(t.dtype);
  const out = new Uint8Array(t.bytes.byteLength);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      for (let b = 0; b < size; b++) out[(c * rows + r) * size + b] = t.bytes[(r * cols + c) * size + b]!;
    }
  }
  return out;
}

/** The tensors of model.safetensors, with the family's Hugging Face names and layouts, in file order. */
export function hfTensors(d: ModelDescription, w: ModelWeights, opts: HfFilesOptions = {}): RawTensor[] {
  const out: RawTensor[] = [];
  const add = (name: string, t: Tensor, shape = t.shape, bytes = t.bytes) => out.push({ name, dtype: t.dtype, shape, bytes });

  if (d.family === 'gpt2') {
    const p = opts.prefix ?? '';
    const D = d.hidden_size;
    // Conv1D stores [in, out]: transpose our [out, in] matrices back.
    const conv = (name: string, t: Tensor) => add(name, t, [t.shape[1]!, t.shape[0]!], transposed(t));
    add(`${p}wte.weight`, w.embed_tokens);
    if (!w.embed_positions) throw new Error('GPT-2 weights need embed_positions');
    add(`${p}wpe.weight`, w.embed_positions);
    w.layers.forEach((layer, l) => {
      const h = `${p}h.${l}`;
      add(`${h}.ln_1.weight`, layer.input_layernorm!.weight);
      add(`${h}.ln_1.bias`, layer.input_layernorm!.bias!);
      if (opts.gpt2Buffers) {
        const P = d.max_position_embeddings;
        const mask = new Uint8Array(P * P);
        for (let q = 0; q < P; q++) for (let k = 0; k <= q; k++) mask[q * P + k] = 1;
        out.push({ name: `${h}.attn.bias`, dtype: 'BOOL', shape: [1, 1, P, P], bytes: mask });
        out.push({ name: `${h}.attn.masked_bias`, dtype: 'F32', shape: [], bytes: new Uint8Array(new Float32Array([-1e4]).buffer) });
      }
      // c_attn.weight [D, 3D]: input row i holds q outputs, then k, then v.
      const size = bytesPerElement(layer.q_proj.weight.dtype);
      const parts = [layer.q_proj, layer.k_proj, layer.v_proj];
      const cAttn = new Uint8Array(D * 3 * D * size);
      parts.forEach((part, k) => {
        const tt = transposed(part.weight); // [D_in, D_out]
        for (let i = 0; i < D; i++) cAttn.set(tt.subarray(i * D * size, (i + 1) * D * size), (i * 3 * D + k * D) * size);
      });
      add(`${h}.attn.c_attn.weight`, layer.q_proj.weight, [D, 3 * D], cAttn);
      const cAttnBias = new Uint8Array(3 * D * size);
      parts.forEach((part, k) => cAttnBias.set(part.bias!.bytes, k * D * size));
      add(`${h}.attn.c_attn.bias`, layer.q_proj.bias!, [3 * D], cAttnBias);
      conv(`${h}.attn.c_proj.weight`, layer.o_proj.weight);
      add(`${h}.attn.c_proj.bias`, layer.o_proj.bias!);
      add(`${h}.ln_2.weight`, layer.post_attention_layernorm!.weight);
      add(`${h}.ln_2.bias`, layer.post_attention_layernorm!.bias!);
      conv(`${h}.mlp.c_fc.weight`, layer.up_proj.weight);
      add(`${h}.mlp.c_fc.bias`, layer.up_proj.bias!);
      conv(`${h}.mlp.c_proj.weight`, layer.down_proj.weight);
      add(`${h}.mlp.c_proj.bias`, layer.down_proj.bias!);
    });
    add(`${p}ln_f.weight`, w.norm.weight);
    add(`${p}ln_f.bias`, w.norm.bias!);
    if (!d.tie_word_embeddings) add('lm_head.weight', w.lm_head);
    return out;
  }

  const p = opts.prefix ?? 'model.';
  add(`${p}embed_tokens.weight`, w.embed_tokens);
  w.layers.forEach((layer, l) => {
    const h = `${p}layers.${l}`;
    const linear = (name: string, lin: { weight: Tensor; bias?: Tensor } | undefined) => {
      if (!lin) throw new Error(`missing ${name}`);
      add(`${name}.weight`, lin.weight);
      if (lin.bias) add(`${name}.bias`, lin.bias);
    };
    add(`${h}.input_layernorm.weight`, layer.input_layernorm!.weight);
    linear(`${h}.self_attn.q_proj`, layer.q_proj);
    linear(`${h}.self_attn.k_proj`, layer.k_proj);
    linear(`${h}.self_attn.v_proj`, layer.v_proj);
    linear(`${h}.self_attn.o_proj`, layer.o_proj);
    if (layer.q_norm) add(`${h}.self_attn.q_norm.weight`, layer.q_norm.weight);
    if (layer.k_norm) add(`${h}.self_attn.k_norm.weight`, layer.k_norm.weight);
    add(`${h}.post_attention_layernorm.weight`, layer.post_attention_layernorm!.weight);
    linear(`${h}.mlp.gate_proj`, layer.gate_proj);
    linear(`${h}.mlp.up_proj`, layer.up_proj);
    linear(`${h}.mlp.down_proj`, layer.down_proj);
  });
  add(`${p}norm.weight`, w.norm.weight);
  if (!d.tie_word_embeddings) add('lm_head.weight', w.lm_head);
  return out;
}

const blobOf = (bytes: Uint8Array<ArrayBuffer> | string) => new Blob([bytes]);

/** A Hugging Face folder: config.json and model.safetensors (or shards and their index). */
export function toHfFiles(d: ModelDescription, w: ModelWeights, opts: HfFilesOptions = {}): ModelFile[] {
  const dir = opts.folder ? `${opts.folder}/` : '';
  const config: Record<string, unknown> = { ...hfConfig(d) };
  for (const [k, v] of Object.entries(opts.configOverrides ?? {})) {
    if (v === undefined) delete config[k];
    else config[k] = v;
  }
  const files: ModelFile[] = [{ path: `${dir}config.json`, blob: blobOf(JSON.stringify(config, null, 2)) }];
  const tensors = hfTensors(d, w, opts);
  const metadata = { format: 'pt' };
  const n = opts.shards ?? 1;
  if (n <= 1) {
    files.push({ path: `${dir}model.safetensors`, blob: blobOf(encodeSafetensors(tensors, metadata)) });
    return files;
  }
  // Contiguous groups of roughly equal byte size, as save_pretrained's max_shard_size makes.
  const total = tensors.reduce((s, t) => s + t.bytes.byteLength, 0);
  const groups: RawTensor[][] = Array.from({ length: n }, () => []);
  let acc = 0;
  for (const t of tensors) {
    const k = Math.min(n - 1, Math.floor((acc / total) * n));
    groups[k]!.push(t);
    acc += t.bytes.byteLength;
  }
  const weightMap: Record<string, string> = {};
  const pad = (i: number) => String(i).padStart(5, '0');
  groups.forEach((group, k) => {
    const shard = `model-${pad(k + 1)}-of-${pad(n)}.safetensors`;
    for (const t of group) weightMap[t.name] = shard;
    files.push({ path: `${dir}${shard}`, blob: blobOf(encodeSafetensors(group, metadata)) });
  });
  const index = { metadata: { total_size: total }, weight_map: weightMap };
  files.push({ path: `${dir}model.safetensors.index.json`, blob: blobOf(JSON.stringify(index, null, 2)) });
  return files;
}

/**
 * A llama2.c legacy (v0) checkpoint: 7 int32 header, f32 arrays stacked over layers, q/k rows put
 * back into llama2.c's interleaved RoPE order. Only plain Llama-shaped models fit the format.
 */
export function toLlama2cBin(d: ModelDescription, w: ModelWeights): Uint8Array<ArrayBuffer> {
  if (d.normKind !== 'rms' || d.mlpKind !== 'gated' || d.positionKind !== 'rope' || d.hasQkvBias || d.hasOBias || d.hasMlpBias || d.qkNorm !== 'none') {
    throw new Error('toLlama2cBin: only bias-free Llama-shaped models fit the llama2.c format');
  }
  const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh } = d;
  if (dh * H !== D) throw new Error('toLlama2cBin: llama2.c needs head_dim = D / H');
  const P = d.max_position_embeddings;
  const chunks: Float32Array[] = [];
  const f32 = (t: Tensor) => chunks.push(tensorToFloat32(t));
  // Hugging Face row j of a head came from llama2.c row 2j (j < dh/2) or 2(j - dh/2) + 1.
  const interleave = (t: Tensor, heads: number) => {
    const src = tensorToFloat32(t); // [heads*dh, D]
    const dst = new Float32Array(src.length);
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < dh; j++) {
        const old = j < dh / 2 ? 2 * j : 2 * (j - dh / 2) + 1;
        dst.set(src.subarray((h * dh + j) * D, (h * dh + j + 1) * D), (h * dh + old) * D);
      }
    }
    chunks.push(dst);
  };
  f32(w.embed_tokens);
  for (const l of w.layers) f32(l.input_layernorm!.weight);
  for (const l of w.layers) interleave(l.q_proj.weight, H);
  for (const l of w.layers) interleave(l.k_proj.weight, Hkv);
  for (const l of w.layers) f32(l.v_proj.weight);
  for (const l of w.layers) f32(l.o_proj.weight);
  for (const l of w.layers) f32(l.post_attention_layernorm!.weight);
  for (const l of w.layers) f32(l.gate_proj!.weight);
  for (const l of w.layers) f32(l.down_proj.weight);
  for (const l of w.layers) f32(l.up_proj.weight);
  f32(w.norm.weight);
  // freq_cis_real and freq_cis_imag [P, dh/2], as export.py writes them (readers ignore them).
  const cos = new Float32Array((P * dh) / 2);
  const sin = new Float32Array((P * dh) / 2);
  for (let t = 0; t < P; t++) {
    for (let i = 0; i < dh / 2; i++) {
      const angle = t / 10000 ** ((2 * i) / dh);
      cos[t * (dh / 2) + i] = Math.cos(angle);
      sin[t * (dh / 2) + i] = Math.sin(angle);
    }
  }
  chunks.push(cos, sin);
  if (!d.tie_word_embeddings) f32(w.lm_head);

  const floats = chunks.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(28 + 4 * floats);
  const view = new DataView(out.buffer);
  const header = [D, d.intermediate_size, d.num_hidden_layers, H, Hkv, d.tie_word_embeddings ? d.vocab_size : -d.vocab_size, P];
  header.forEach((v, i) => view.setInt32(4 * i, v, true));
  let offset = 28;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) view.setFloat32(offset + 4 * i, c[i]!, true);
    offset += 4 * c.length;
  }
  return out;
}
