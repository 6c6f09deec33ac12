// A random checkpoint of a real model's shape written to disk as a Hugging Face folder (config.json,
// model.safetensors, a character tokenizer), streamed a few MiB at a time so that writing a
// billion parameters needs little memory. For the memory measurements (bench/memory.ts); nothing
// here is shipped and the numbers mean nothing.

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { characterTokenizer } from '../src/model/testing/family-fixtures';

export interface LargeShape {
  name: string;
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
}

/** TinyLlama-1.1B's shape (BF16 on the Hub: 2.2 GB). */
export const TINYLLAMA: LargeShape = {
  name: 'random TinyLlama-1.1B shape',
  vocab_size: 32000,
  hidden_size: 2048,
  intermediate_size: 5632,
  num_hidden_layers: 22,
  num_attention_heads: 32,
  num_key_value_heads: 4,
};

interface Entry {
  name: string;
  shape: number[];
  /** Uniform in [-a, a]: a = sqrt(3 / fan_in) for matrices (unit variance through them), 0 for norms (all ones). */
  scale: number;
}

function entries(s: LargeShape): Entry[] {
  const D = s.hidden_size;
  const dh = D / s.num_attention_heads;
  const kv = s.num_key_value_heads * dh;
  const I = s.intermediate_size;
  const mat = (name: string, out: number, inp: number): Entry => ({ name, shape: [out, inp], scale: Math.sqrt(3 / inp) });
  const norm = (name: string): Entry => ({ name, shape: [D], scale: 0 });
  // Embeddings of unit variance (fan-in 1), matrices that keep it.
  const out: Entry[] = [{ name: 'model.embed_tokens.weight', shape: [s.vocab_size, D], scale: Math.sqrt(3) }];
  for (let l = 0; l < s.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      norm(`${p}.input_layernorm.weight`),
      mat(`${p}.self_attn.q_proj.weight`, D, D),
      mat(`${p}.self_attn.k_proj.weight`, kv, D),
      mat(`${p}.self_attn.v_proj.weight`, kv, D),
      mat(`${p}.self_attn.o_proj.weight`, D, D),
      norm(`${p}.post_attention_layernorm.weight`),
      mat(`${p}.mlp.gate_proj.weight`, I, D),
      mat(`${p}.mlp.up_proj.weight`, I, D),
      mat(`${p}.mlp.down_proj.weight`, D, I),
    );
  }
  out.push(norm('model.norm.weight'), mat('lm_head.weight', s.vocab_size, D));
  return out;
}

/** Writes the folder; returns the checkpoint's size in bytes. BF16 throughout. */
export function writeLargeCheckpoint(dir: string, s: LargeShape, seed = 1): number {
  mkdirSync(dir, { recursive: true });
  const list = entries(s);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const e of list) {
    const bytes = e.shape.reduce((a, b) => a * b, 1) * 2;
    header[e.name] = { dtype: 'BF16', shape: e.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
  writeSync(fd, prefix);
  writeSync(fd, new TextEncoder().encode(json));
  // xorshift32 uniforms turned into bf16 (the top half of an f32), 4 Mi values per write.
  let x = seed >>> 0 || 1;
  const f32 = new Float32Array(1 << 22);
  const u32 = new Uint32Array(f32.buffer);
  const bf16 = new Uint16Array(f32.length);
  for (const e of list) {
    let left = e.shape.reduce((a, b) => a * b, 1);
    while (left > 0) {
      const n = Math.min(left, f32.length);
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        x >>>= 0;
        f32[i] = e.scale === 0 ? 1 : ((x / 4294967296) * 2 - 1) * e.scale;
        bf16[i] = u32[i]! >>> 16;
      }
      writeSync(fd, new Uint8Array(bf16.buffer, 0, n * 2));
      left -= n;
    }
  }
  closeSync(fd);
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: s.vocab_size,
    hidden_size: s.hidden_size,
    intermediate_size: s.intermediate_size,
    num_hidden_layers: s.num_hidden_layers,
    num_attention_heads: s.num_attention_heads,
    num_key_value_heads: s.num_key_value_heads,
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: false,
    torch_dtype: 'bfloat16',
    _name_or_path: s.name,
  };
  writeSync(openSync(join(dir, 'config.json'), 'w'), JSON.stringify(config, null, 1));
  writeSync(openSync(join(dir, 'tokenizer.json'), 'w'), JSON.stringify(characterTokenizer(s.vocab_size)));
  writeSync(openSync(join(dir, 'tokenizer_config.json'), 'w'), JSON.stringify({ add_bos_token: false }));
  return 8 + json.length + offset;
}
