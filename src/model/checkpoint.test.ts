// loadCheckpoint: round trips of random models of every family, dtype and tying through the
// Hugging Face and llama2.c writers, a GPT-2 layout built by hand, and the stories260K model
// in ../shared read both as a Hugging Face folder and as the original llama2.c export.

import { openAsBlob, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED, skipWithoutFiles } from '../testing/requirements';
import { loadCheckpoint } from './checkpoint';
import { transposeColumns } from './tensor-ops';
import type { DType, Family, LayerWeights, ModelWeights, Tensor } from './description';
import { ModelFormatError } from './errors';
import type { ModelFile } from './files';
import { randomModel } from './testing/random-model';
import { encodeSafetensors } from './testing/safetensors-writer';
import { hfConfig, hfTensors, toHfFiles, toLlama2cBin } from './testing/serialize';

const FAMILIES: Family[] = ['llama', 'mistral', 'qwen2', 'qwen3', 'gpt2'];
const DTYPES: DType[] = ['F32', 'F16', 'BF16'];
const LINEARS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

/** Every tensor of a model with a path-like key, for comparing two loads tensor by tensor. */
function flatten(w: ModelWeights): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const put = (key: string, t: Tensor | undefined) => t && out.set(key, t);
  put('embed_tokens', w.embed_tokens);
  put('embed_positions', w.embed_positions);
  w.layers.forEach((l: LayerWeights, i) => {
    put(`${i}.input_layernorm.weight`, l.input_layernorm!.weight);
    put(`${i}.input_layernorm.bias`, l.input_layernorm!.bias);
    put(`${i}.post_attention_layernorm.weight`, l.post_attention_layernorm!.weight);
    put(`${i}.post_attention_layernorm.bias`, l.post_attention_layernorm!.bias);
    put(`${i}.q_norm`, l.q_norm?.weight);
    put(`${i}.k_norm`, l.k_norm?.weight);
    for (const k of LINEARS) {
      put(`${i}.${k}.weight`, l[k]?.weight);
      put(`${i}.${k}.bias`, l[k]?.bias);
    }
  });
  put('norm.weight', w.norm.weight);
  put('norm.bias', w.norm.bias);
  put('lm_head', w.lm_head);
  return out;
}

function expectSameWeights(got: ModelWeights, want: ModelWeights, label: string): void {
  const a = flatten(got);
  const b = flatten(want);
  expect([...a.keys()].sort(), label).toEqual([...b.keys()].sort());
  for (const [key, t] of b) {
    const g = a.get(key)!;
    expect(g.dtype, `${label} ${key}`).toBe(t.dtype);
    expect(g.shape, `${label} ${key}`).toEqual(t.shape);
    expect(Buffer.from(g.bytes).equals(Buffer.from(t.bytes)), `${label} ${key} bytes`).toBe(true);
  }
  expect(got.lm_head === got.embed_tokens, `${label} tied`).toBe(want.lm_head === want.embed_tokens);
}

describe('round trips through the Hugging Face writer', () => {
  for (const family of FAMILIES) {
    for (const dtype of DTYPES) {
      it(`${family} ${dtype}`, async () => {
        for (const tie of [true, false]) {
          const m = randomModel({ family, dtype, tie_word_embeddings: tie, seed: 11, ...(family === 'qwen3' ? { head_dim: 12 } : {}) });
          for (const shards of [1, 3]) {
            const label = `${family} ${dtype} tie=${tie} shards=${shards}`;
            const ckpt = await loadCheckpoint(toHfFiles(m.description, m.weights, { shards, folder: 'my-model' }));
            expect(ckpt.format).toBe('safetensors');
            expect(ckpt.description, label).toEqual({ ...m.description, name: 'my-model' });
            expect(ckpt.fingerprint).toMatch(/^sha256:[0-9a-f]{32}$/);
            expectSameWeights(ckpt.weights, m.weights, label);
          }
        }
      });
    }
  }

  it('llama with attention and MLP biases, GQA 4:1 and head_dim != D/H', async () => {
    const m = randomModel({
      family: 'llama',
      attention_bias: true,
      mlp_bias: true,
      num_attention_heads: 4,
      num_key_value_heads: 1,
      head_dim: 6,
      dtype: 'BF16',
    });
    const ckpt = await loadCheckpoint(toHfFiles(m.description, m.weights));
    expect(ckpt.description).toEqual(m.description);
    expectSameWeights(ckpt.weights, m.weights, 'llama biases');
  });

  it('GPT-2 with the transformer. prefix and the attention-mask buffers of PyTorch exports', async () => {
    const m = randomModel({ family: 'gpt2', dtype: 'F16' });
    const ckpt = await loadCheckpoint(toHfFiles(m.description, m.weights, { prefix: 'transformer.', gpt2Buffers: true }));
    expectSameWeights(ckpt.weights, m.weights, 'gpt2 prefixed');
  });

  it('Llama tensors without the model. prefix, with a tied lm_head.weight copy and rotary buffers', async () => {
    const m = randomModel({ family: 'llama', tie_word_embeddings: true });
    const tensors = hfTensors(m.description, m.weights, { prefix: '' });
    tensors.push({ ...m.weights.embed_tokens, name: 'lm_head.weight' });
    tensors.push({ name: 'layers.0.self_attn.rotary_emb.inv_freq', dtype: 'F32', shape: [4], bytes: new Uint8Array(16) });
    const files: ModelFile[] = [
      { path: 'config.json', blob: new Blob([JSON.stringify(hfConfig(m.description))]) },
      { path: 'model.safetensors', blob: new Blob([encodeSafetensors(tensors)]) },
    ];
    const ckpt = await loadCheckpoint(files);
    expectSameWeights(ckpt.weights, m.weights, 'unprefixed');
    // A missing tensor is named as this file would name it (no "model." prefix).
    const without = encodeSafetensors(tensors.filter((t) => t.name !== 'layers.1.mlp.up_proj.weight'));
    const err = await loadCheckpoint([files[0]!, { path: 'model.safetensors', blob: new Blob([without]) }]).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^model\.safetensors \(layers\.1\.mlp\.up_proj\.weight\): tensor is missing/);
    expect(ckpt.description.name).toBe(m.description.name); // from _name_or_path: no folder
  });

  it('reports the dominant dtype of mixed checkpoints', async () => {
    const m = randomModel({ family: 'qwen2', dtype: 'BF16' });
    const f32 = randomModel({ family: 'qwen2', dtype: 'F32' });
    // Norms in F32, matrices in BF16, as some exporters write them.
    m.weights.norm = f32.weights.norm;
    m.weights.layers.forEach((l, i) => (l.input_layernorm = f32.weights.layers[i]!.input_layernorm));
    const ckpt = await loadCheckpoint(toHfFiles({ ...m.description, dtype: 'F32' }, m.weights));
    expect(ckpt.description.dtype).toBe('BF16');
    expect(ckpt.weights.norm.weight.dtype).toBe('F32');
  });
});

describe('GPT-2 layout', () => {
  it('splits c_attn [D, 3D] into q, k, v [D, D] and transposes Conv1D weights (values set by hand)', async () => {
    // D = 2, H = 1, I = 3: c_attn.weight[i][o] = 10 * i + o, so q[o][i] = 10 i + o, k[o][i] = 10 i + 2 + o ...
    const m = randomModel({
      family: 'gpt2',
      hidden_size: 2,
      num_attention_heads: 1,
      intermediate_size: 3,
      num_hidden_layers: 1,
      vocab_size: 4,
      max_position_embeddings: 2,
    });
    const tensors = hfTensors(m.description, m.weights);
    const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
    const set = (name: string, values: number[]) => (tensors.find((t) => t.name === name)!.bytes = f32(values));
    set('h.0.attn.c_attn.weight', [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);
    set('h.0.attn.c_attn.bias', [100, 101, 102, 103, 104, 105]);
    set('h.0.mlp.c_fc.weight', [0, 1, 2, 10, 11, 12]); // [D=2, I=3]
    const files: ModelFile[] = [
      { path: 'g/config.json', blob: new Blob([JSON.stringify(hfConfig(m.description))]) },
      { path: 'g/model.safetensors', blob: new Blob([encodeSafetensors(tensors)]) },
    ];
    const layer = (await loadCheckpoint(files)).weights.layers[0]!;
    const vals = (t: Tensor) => [...new Float32Array(t.bytes.slice().buffer)];
    expect(vals(layer.q_proj.weight)).toEqual([0, 10, 1, 11]);
    expect(vals(layer.k_proj.weight)).toEqual([2, 12, 3, 13]);
    expect(vals(layer.v_proj.weight)).toEqual([4, 14, 5, 15]);
    expect(vals(layer.q_proj.bias!)).toEqual([100, 101]);
    expect(vals(layer.v_proj.bias!)).toEqual([104, 105]);
    expect(layer.up_proj.weight.shape).toEqual([3, 2]);
    expect(vals(layer.up_proj.weight)).toEqual([0, 10, 1, 11, 2, 12]);
  });

  it('transposes 2-byte elements and unaligned views', () => {
    // [2, 3] of u16 0..5 -> columns 1..2 transposed: [[1, 4], [2, 5]]
    const src = new Uint8Array(new Uint16Array([0, 1, 2, 3, 4, 5]).buffer);
    expect([...new Uint16Array(transposeColumns(src, 2, 3, 1, 2, 'F16').buffer)]).toEqual([1, 4, 2, 5]);
    const shifted = new Uint8Array(src.byteLength + 1);
    shifted.set(src, 1);
    expect([...new Uint16Array(transposeColumns(shifted.subarray(1), 2, 3, 1, 2, 'BF16').buffer)]).toEqual([1, 4, 2, 5]);
  });
});

describe('round trips through the llama2.c writer', () => {
  for (const tie of [true, false]) {
    it(`llama tie=${tie}: same q/k rows after interleaving and back`, async () => {
      const m = randomModel({ family: 'llama', tie_word_embeddings: tie, seed: 5, num_hidden_layers: 3, num_key_value_heads: 1 });
      const ckpt = await loadCheckpoint([{ path: 'out/model.bin', blob: new Blob([toLlama2cBin(m.description, m.weights)]) }]);
      expect(ckpt.format).toBe('llama2c');
      expect({ ...ckpt.description, name: '', eos_token_ids: [] }).toEqual({ ...m.description, name: '', eos_token_ids: [] });
      expect(ckpt.description.eos_token_ids).toEqual([2, 1]);
      expectSameWeights(ckpt.weights, m.weights, 'llama2c');
    });
  }
});

describe('finding the checkpoint among the files', () => {
  const m = randomModel({ family: 'llama' });
  const hf = toHfFiles(m.description, m.weights, { folder: 'top' });

  it('prefers the shallowest config.json and ignores tokenizer and other files', async () => {
    const extra: ModelFile[] = [
      { path: 'top/tokenizer.json', blob: new Blob(['{}']) },
      { path: 'top/sub/config.json', blob: new Blob(['not json']) },
      { path: 'top/llama2c/tok512.bin', blob: new Blob([new Uint8Array(10)]) },
    ];
    const ckpt = await loadCheckpoint([...extra, ...hf]);
    expect(ckpt.description.name).toBe('top');
  });

  it('names what is missing', async () => {
    const cases: [ModelFile[], string][] = [
      [[hf[0]!], 'top/config.json: no model.safetensors or model.safetensors.index.json beside it'],
      [[hf[1]!], 'top/model.safetensors: config.json is missing beside the safetensors weights'],
      [[{ path: 'notes.txt', blob: new Blob(['x']) }], 'notes.txt: no model found'],
      [[], '(no files): no model found'],
      [[hf[0]!, { path: 'top/pytorch_model.bin', blob: new Blob(['x']) }], 'top/config.json: PyTorch .bin weights are not supported'],
      [[hf[0]!, { path: 'top/a.safetensors', blob: hf[1]!.blob }, { path: 'top/b.safetensors', blob: hf[1]!.blob }], 'top/config.json: 2 .safetensors files'],
    ];
    for (const [files, message] of cases) {
      const err = await loadCheckpoint(files).catch((e: unknown) => e);
      expect(err, message).toBeInstanceOf(ModelFormatError);
      expect((err as Error).message.startsWith(message), (err as Error).message).toBe(true);
    }
  });

  it('loads a lone .safetensors under another name', async () => {
    const ckpt = await loadCheckpoint([hf[0]!, { path: 'top/weights.safetensors', blob: hf[1]!.blob }]);
    expectSameWeights(ckpt.weights, m.weights, 'renamed');
  });
});

const STORIES = SHARED + 'models/stories260K';

async function filesUnder(root: string, dir = root): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...(await filesUnder(root, full)));
    else out.push({ path: `stories260K/${relative(root, full)}`, blob: (await openAsBlob(full)) as Blob });
  }
  return out;
}

describe.skipIf(skipWithoutFiles(STORIES))('stories260K (../shared): Hugging Face folder vs llama2.c export', () => {
  it('gives identical weights and descriptions', async () => {
    const all = await filesUnder(STORIES);
    const hf = await loadCheckpoint(all); // config.json wins over the llama2c/ subfolder
    const l2c = await loadCheckpoint(all.filter((f) => f.path.includes('/llama2c/')));
    expect(hf.format).toBe('safetensors');
    expect(l2c.format).toBe('llama2c');
    expect(hf.description).toMatchObject({
      name: 'stories260K',
      family: 'llama',
      num_hidden_layers: 5,
      hidden_size: 64,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      intermediate_size: 172,
      vocab_size: 512,
      head_dim: 8,
      tie_word_embeddings: true,
      norm_eps: 1e-5,
      rope: { theta: 10000, dim: 8 },
      max_position_embeddings: 512,
      dtype: 'F32',
    });
    // The folder's config names eos 2 only; llama2.c models also stop at BOS (DESIGN.md section 6).
    expect(l2c.description.name).toBe('stories260K');
    expect({ ...l2c.description, eos_token_ids: [2] }).toEqual(hf.description);
    expectSameWeights(l2c.weights, hf.weights, 'stories260K');
    expect(hf.weights.lm_head).toBe(hf.weights.embed_tokens);
    expect(hf.fingerprint).not.toBe(l2c.fingerprint);
  });
});
