// The test-model generator and its writers: shapes and names checked against the Hugging Face
// layouts written out by hand here, not against the importers.

import { describe, expect, it } from 'vitest';
import type { Family, Tensor } from '../description';
import { tensorToFloat32 } from '../dtype';
import { randomModel } from './random-model';
import { hfTensors, toHfFiles, toLlama2cBin } from './serialize';

const FAMILIES: Family[] = ['llama', 'mistral', 'qwen2', 'qwen3', 'gpt2'];

function std(t: Tensor): number {
  const x = tensorToFloat32(t);
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

async function headerOf(blob: Blob): Promise<Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}

describe('randomModel', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = randomModel({ family: 'llama', seed: 7 });
    const b = randomModel({ family: 'llama', seed: 7 });
    const c = randomModel({ family: 'llama', seed: 8 });
    expect(a.weights.layers[1]!.q_proj.weight.bytes).toEqual(b.weights.layers[1]!.q_proj.weight.bytes);
    expect(a.weights.layers[1]!.q_proj.weight.bytes).not.toEqual(c.weights.layers[1]!.q_proj.weight.bytes);
  });

  it('gives every family its shapes, biases and norms', () => {
    for (const family of FAMILIES) {
      const { description: d, weights: w } = randomModel({ family, hidden_size: 32, num_attention_heads: 4, intermediate_size: 40 });
      const H = d.num_attention_heads;
      const Hkv = d.num_key_value_heads;
      expect(w.layers.length).toBe(2);
      const layer = w.layers[0]!;
      expect(layer.q_proj.weight.shape).toEqual([H * d.head_dim, 32]);
      expect(layer.k_proj.weight.shape).toEqual([Hkv * d.head_dim, 32]);
      expect(layer.o_proj.weight.shape).toEqual([32, H * d.head_dim]);
      expect(layer.up_proj.weight.shape).toEqual([40, 32]);
      expect(layer.down_proj.weight.shape).toEqual([32, 40]);
      expect(!!layer.gate_proj).toBe(family !== 'gpt2');
      expect(!!layer.q_proj.bias).toBe(family === 'qwen2' || family === 'gpt2');
      expect(!!layer.o_proj.bias).toBe(family === 'gpt2');
      expect(!!layer.q_norm && !!layer.k_norm).toBe(family === 'qwen3');
      expect(!!layer.input_layernorm!.bias).toBe(family === 'gpt2');
      expect(!!w.embed_positions).toBe(family === 'gpt2');
      expect(w.lm_head === w.embed_tokens).toBe(family === 'gpt2'); // HF defaults
      expect(Hkv).toBe(family === 'gpt2' ? 4 : 2);
    }
  });

  it('keeps weights at O(1) scales', () => {
    const { weights: w } = randomModel({ family: 'gpt2', hidden_size: 64, num_attention_heads: 4, seed: 3 });
    const layer = w.layers[0]!;
    expect(std(layer.q_proj.weight)).toBeCloseTo(1 / 8, 1); // 1/sqrt(64)
    expect(std(layer.down_proj.weight)).toBeCloseTo(1 / 16, 1); // 1/sqrt(I = 256)
    const gamma = tensorToFloat32(layer.input_layernorm!.weight);
    expect(Math.min(...gamma)).toBeGreaterThan(0.5);
    expect(Math.max(...gamma)).toBeLessThan(1.5);
    const beta = tensorToFloat32(layer.input_layernorm!.bias!);
    expect(beta.some((v) => v !== 0)).toBe(true);
    expect(std(layer.input_layernorm!.bias!)).toBeLessThan(0.3);
  });

  it('honours head_dim, options and dtype', () => {
    const { description: d, weights: w } = randomModel({
      family: 'llama',
      hidden_size: 24,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      head_dim: 10,
      attention_bias: true,
      mlp_bias: true,
      dtype: 'BF16',
      tie_word_embeddings: true,
    });
    expect(d.head_dim).toBe(10);
    expect(w.layers[0]!.q_proj.weight.shape).toEqual([40, 24]);
    expect(w.layers[0]!.k_proj.weight.shape).toEqual([10, 24]);
    expect(w.layers[0]!.o_proj.bias!.shape).toEqual([24]);
    expect(w.layers[0]!.gate_proj!.bias!.shape).toEqual([36]);
    expect(w.layers[0]!.q_proj.weight.bytes.byteLength).toBe(40 * 24 * 2);
    expect(w.lm_head).toBe(w.embed_tokens);
    expect(() => randomModel({ family: 'mistral', attention_bias: true })).toThrow();
    expect(() => randomModel({ family: 'gpt2', num_key_value_heads: 2 })).toThrow();
  });
});

describe('toHfFiles', () => {
  it('writes the real Hugging Face config keys', async () => {
    const gpt2 = toHfFiles(randomModel({ family: 'gpt2' }).description, randomModel({ family: 'gpt2' }).weights);
    const c = JSON.parse(await gpt2[0]!.blob.text());
    expect(c).toMatchObject({
      model_type: 'gpt2',
      n_embd: 32,
      n_layer: 2,
      n_head: 4,
      n_positions: 64,
      n_inner: null,
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
    });
    const m = randomModel({ family: 'qwen3', tie_word_embeddings: true });
    const q = JSON.parse(await toHfFiles(m.description, m.weights)[0]!.blob.text());
    expect(q).toMatchObject({
      model_type: 'qwen3',
      hidden_size: 32,
      num_key_value_heads: 2,
      head_dim: 8,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: true,
      rope_theta: 10000,
    });
  });

  it('names llama tensors as Hugging Face does, lm_head only when untied', async () => {
    for (const tie of [false, true]) {
      const m = randomModel({ family: 'qwen3', tie_word_embeddings: tie, num_hidden_layers: 1 });
      const names = Object.keys(await headerOf(toHfFiles(m.description, m.weights)[1]!.blob)).filter((n) => n !== '__metadata__');
      const expected = [
        'model.embed_tokens.weight',
        ...['input_layernorm', 'post_attention_layernorm'].map((n) => `model.layers.0.${n}.weight`),
        ...['q_proj', 'k_proj', 'v_proj', 'o_proj', 'q_norm', 'k_norm'].map((n) => `model.layers.0.self_attn.${n}.weight`),
        ...['gate_proj', 'up_proj', 'down_proj'].map((n) => `model.layers.0.mlp.${n}.weight`),
        'model.norm.weight',
        ...(tie ? [] : ['lm_head.weight']),
      ];
      expect(names.sort()).toEqual(expected.sort());
    }
  });

  it('writes GPT-2 Conv1D weights as [in, out] with c_attn = [q | k | v] columns', async () => {
    const m = randomModel({
      family: 'gpt2',
      hidden_size: 4,
      num_attention_heads: 2,
      intermediate_size: 6,
      num_hidden_layers: 1,
      vocab_size: 5,
      max_position_embeddings: 3,
    });
    const header = await headerOf(toHfFiles(m.description, m.weights)[1]!.blob);
    expect(header['h.0.attn.c_attn.weight']!.shape).toEqual([4, 12]);
    expect(header['h.0.mlp.c_fc.weight']!.shape).toEqual([4, 6]);
    expect(header['h.0.mlp.c_proj.weight']!.shape).toEqual([6, 4]);
    const tensors = hfTensors(m.description, m.weights);
    const byName = new Map(tensors.map((t) => [t.name, t]));
    const cAttn = tensorToFloat32({ ...byName.get('h.0.attn.c_attn.weight')!, dtype: 'F32' }); // [D, 3D]
    const layer = m.weights.layers[0]!;
    const parts = [layer.q_proj, layer.k_proj, layer.v_proj].map((p) => tensorToFloat32(p.weight)); // [D, D] each
    for (let i = 0; i < 4; i++)
      for (let k = 0; k < 3; k++)
        for (let o = 0; o < 4; o++) {
          expect(cAttn[i * 12 + k * 4 + o]).toBe(parts[k]![o * 4 + i]);
        }
    const cFc = tensorToFloat32({ ...byName.get('h.0.mlp.c_fc.weight')!, dtype: 'F32' }); // [D, I]
    const up = tensorToFloat32(layer.up_proj.weight); // [I, D]
    expect(cFc[1 * 6 + 5]).toBe(up[5 * 4 + 1]);
    expect(Object.keys(header)).not.toContain('lm_head.weight');
  });

  it('shards with an index whose weight_map covers every tensor', async () => {
    const m = randomModel({ family: 'mistral', num_hidden_layers: 3 });
    const files = toHfFiles(m.description, m.weights, { shards: 3, folder: 'tiny' });
    expect(files.map((f) => f.path)).toEqual([
      'tiny/config.json',
      'tiny/model-00001-of-00003.safetensors',
      'tiny/model-00002-of-00003.safetensors',
      'tiny/model-00003-of-00003.safetensors',
      'tiny/model.safetensors.index.json',
    ]);
    const index = JSON.parse(await files[4]!.blob.text());
    const all = hfTensors(m.description, m.weights).map((t) => t.name);
    expect(Object.keys(index.weight_map).sort()).toEqual([...all].sort());
    for (const [name, shard] of Object.entries(index.weight_map)) {
      const file = files.find((f) => f.path === `tiny/${shard}`)!;
      expect(Object.keys(await headerOf(file.blob))).toContain(name);
    }
  });
});

describe('toLlama2cBin', () => {
  it('has the size of the header plus every array', () => {
    for (const tie of [true, false]) {
      const m = randomModel({ family: 'llama', tie_word_embeddings: tie, seed: 2 });
      const bin = toLlama2cBin(m.description, m.weights);
      // D=32, I=48, L=2, H=4, Hkv=2, dh=8, V=64, P=64
      const floats = 64 * 32 + 2 * (32 + 32 * 32 + 2 * 16 * 32 + 32 * 32 + 32 + 3 * 48 * 32) + 32 + 2 * 64 * 4 + (tie ? 0 : 64 * 32);
      expect(bin.byteLength).toBe(28 + 4 * floats);
      const header = new Int32Array(bin.buffer, 0, 7);
      expect([...header]).toEqual([32, 48, 2, 4, 2, tie ? 64 : -64, 64]);
    }
  });

  it('interleaves q rows: llama2.c row 2j+1 is Hugging Face row dh/2 + j of the same head', () => {
    const m = randomModel({ family: 'llama', tie_word_embeddings: true, seed: 4 });
    const bin = toLlama2cBin(m.description, m.weights);
    const wqOffset = 28 + 4 * (64 * 32 + 2 * 32); // after embeddings and attention norms
    const wq = new Float32Array(bin.buffer.slice(wqOffset, wqOffset + 4 * 32 * 32)); // layer 0, [32, 32]
    const hf = tensorToFloat32(m.weights.layers[0]!.q_proj.weight);
    // Head 1 (rows 8..15), j = 2: llama2.c row 8 + 5 <- HF row 8 + 4 + 2.
    expect([...wq.subarray(13 * 32, 14 * 32)]).toEqual([...hf.subarray(14 * 32, 15 * 32)]);
    expect([...wq.subarray(12 * 32, 13 * 32)]).toEqual([...hf.subarray(10 * 32, 11 * 32)]);
  });
});
