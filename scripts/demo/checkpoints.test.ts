// Checks the shipped demo checkpoints' layout from the files alone: safetensors header parsed here
// (not by the Python writer), tensor names and shapes derived from config.json by the Hugging Face
// naming rules, and the size budget. It does not run the models.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const MODELS_DIR = join(import.meta.dirname, '..', '..', 'public', 'models');

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function readHeader(path: string): { entries: Map<string, HeaderEntry>; dataStart: number; fileSize: number } {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const entries = new Map<string, HeaderEntry>();
  for (const [name, value] of Object.entries(header)) {
    if (name !== '__metadata__') entries.set(name, value as HeaderEntry);
  }
  return { entries, dataStart: 8 + n, fileSize: bytes.length };
}

type Config = Record<string, number | string | boolean | null | string[]>;

function num(config: Config, key: string): number {
  const v = config[key];
  if (typeof v !== 'number') throw new Error(`config.${key} is not a number`);
  return v;
}

/** Expected tensor shapes by Hugging Face name, from the config alone. */
function llamaShapes(c: Config): Map<string, number[]> {
  const [D, I, V, H, Hkv] = ['hidden_size', 'intermediate_size', 'vocab_size', 'num_attention_heads', 'num_key_value_heads'].map((k) => num(c, k));
  const dh = num(c, 'head_dim');
  const m = new Map<string, number[]>([
    ['model.embed_tokens.weight', [V, D]],
    ['model.norm.weight', [D]],
  ]);
  for (let l = 0; l < num(c, 'num_hidden_layers'); l++) {
    const p = `model.layers.${l}.`;
    m.set(`${p}input_layernorm.weight`, [D]);
    m.set(`${p}post_attention_layernorm.weight`, [D]);
    m.set(`${p}self_attn.q_proj.weight`, [H * dh, D]);
    m.set(`${p}self_attn.k_proj.weight`, [Hkv * dh, D]);
    m.set(`${p}self_attn.v_proj.weight`, [Hkv * dh, D]);
    m.set(`${p}self_attn.o_proj.weight`, [D, H * dh]);
    m.set(`${p}mlp.gate_proj.weight`, [I, D]);
    m.set(`${p}mlp.up_proj.weight`, [I, D]);
    m.set(`${p}mlp.down_proj.weight`, [D, I]);
  }
  return m;
}

function gpt2Shapes(c: Config): Map<string, number[]> {
  const [D, I, V, P] = ['n_embd', 'n_inner', 'vocab_size', 'n_positions'].map((k) => num(c, k));
  const m = new Map<string, number[]>([
    ['wte.weight', [V, D]],
    ['wpe.weight', [P, D]],
    ['ln_f.weight', [D]],
    ['ln_f.bias', [D]],
  ]);
  for (let l = 0; l < num(c, 'n_layer'); l++) {
    const p = `h.${l}.`;
    for (const ln of ['ln_1', 'ln_2']) {
      m.set(`${p}${ln}.weight`, [D]);
      m.set(`${p}${ln}.bias`, [D]);
    }
    // Conv1D stores [in, out].
    m.set(`${p}attn.c_attn.weight`, [D, 3 * D]);
    m.set(`${p}attn.c_attn.bias`, [3 * D]);
    m.set(`${p}attn.c_proj.weight`, [D, D]);
    m.set(`${p}attn.c_proj.bias`, [D]);
    m.set(`${p}mlp.c_fc.weight`, [D, I]);
    m.set(`${p}mlp.c_fc.bias`, [I]);
    m.set(`${p}mlp.c_proj.weight`, [I, D]);
    m.set(`${p}mlp.c_proj.bias`, [D]);
  }
  return m;
}

describe.each([
  { model: 'demo-llama', type: 'llama', shapes: llamaShapes },
  { model: 'demo-gpt2', type: 'gpt2', shapes: gpt2Shapes },
])('$model checkpoint', ({ model, type, shapes }) => {
  const dir = join(MODELS_DIR, model);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Config;
  const vocab = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> }; added_tokens: { id: number }[] };

  it('has a config of its family with tied embeddings', () => {
    expect(config.model_type).toBe(type);
    expect(config.tie_word_embeddings).toBe(true);
    expect(config.torch_dtype).toBe('float32');
    const ids = new Set([...Object.values(vocab.model.vocab), ...vocab.added_tokens.map((t) => t.id)]);
    expect(num(config, 'vocab_size')).toBe(ids.size);
    expect(Math.max(...ids)).toBe(ids.size - 1);
  });

  it('stores exactly the Hugging Face tensors, f32, contiguous and in name order', () => {
    const { entries, dataStart, fileSize } = readHeader(join(dir, 'model.safetensors'));
    const expected = shapes(config);
    expect([...entries.keys()].sort()).toEqual([...expected.keys()].sort());
    let offset = 0;
    for (const name of [...entries.keys()].sort()) {
      const e = entries.get(name)!;
      expect(e.dtype, name).toBe('F32');
      expect(e.shape, name).toEqual(expected.get(name));
      expect(e.data_offsets[0], name).toBe(offset);
      offset += 4 * e.shape.reduce((a, b) => a * b, 1);
      expect(e.data_offsets[1], name).toBe(offset);
    }
    expect(dataStart % 8).toBe(0);
    expect(fileSize).toBe(dataStart + offset);
  });

  it('stays small enough to ship', () => {
    let total = 0;
    for (const f of ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'config.json', 'reference.json']) {
      total += statSync(join(dir, f)).size;
    }
    expect(total).toBeLessThan(8 * 1024 * 1024);
  });
});
