// The llama2.c importer: a file assembled by hand float by float (so the array order and the q/k
// row permutation are checked against DESIGN.md section 6, not against the writer), a round trip
// through the test writer, the stories260K export in ../shared, and header refusals.

import { openAsBlob } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHARED, skipWithoutFiles } from '../testing/requirements';
import { ModelFormatError } from './errors';
import type { ModelFile } from './files';
import { readLlama2c, readLlama2cHeader } from './llama2c';
import { randomModel } from './testing/random-model';
import { toLlama2cBin } from './testing/serialize';

const file = (path: string, bytes: Uint8Array<ArrayBuffer>): ModelFile => ({ path, blob: new Blob([bytes]) });

function binary(header: number[], floats: number[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4 * (header.length + floats.length));
  const v = new DataView(out.buffer);
  header.forEach((x, i) => v.setInt32(4 * i, x, true));
  floats.forEach((x, i) => v.setFloat32(4 * (header.length + i), x, true));
  return out;
}

const f32 = (bytes: Uint8Array) => [...new Float32Array(bytes.slice().buffer)];

describe('readLlama2c', () => {
  it('reads a hand-assembled file: array order, q/k permutation, untied classifier', async () => {
    // D=4, I=2, L=1, H=1, Hkv=1 (dh=4), V=3 stored as -3 (untied), seq_len=2.
    // Each array's values start at a distinct hundred so a misplaced array shows.
    const range = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i);
    const floats = [
      ...range(100, 12), // token embedding [3, 4]
      ...range(200, 4), // attention RMSNorm [1, 4]
      ...range(300, 16), // wq [1, 4, 4]: row r holds 300 + 4r ..
      ...range(400, 16), // wk
      ...range(500, 16), // wv
      ...range(600, 16), // wo
      ...range(700, 4), // FFN RMSNorm
      ...range(800, 8), // w1 gate [1, 2, 4]
      ...range(900, 8), // w2 down [1, 4, 2]
      ...range(1000, 8), // w3 up [1, 2, 4]
      ...range(1100, 4), // final RMSNorm
      ...range(1200, 4), // freq_cis_real [2, 2]
      ...range(1300, 4), // freq_cis_imag
      ...range(1400, 12), // classifier [3, 4]
    ];
    const { description: d, weights: w } = await readLlama2c(file('m/tiny.bin', binary([4, 2, 1, 1, 1, -3, 2], floats)));
    expect(d).toMatchObject({
      name: 'tiny',
      family: 'llama',
      hidden_size: 4,
      intermediate_size: 2,
      num_hidden_layers: 1,
      vocab_size: 3,
      head_dim: 4,
      max_position_embeddings: 2,
      tie_word_embeddings: false,
      norm_eps: 1e-5,
      rope: { theta: 10000, dim: 4 },
      bos_token_id: 1,
      eos_token_ids: [2, 1],
      dtype: 'F32',
    });
    expect(f32(w.embed_tokens.bytes)).toEqual(range(100, 12));
    const layer = w.layers[0]!;
    // Interleaved pairs (r0, r1), (r2, r3) become halves: HF rows = old rows 0, 2, 1, 3.
    const rows = (base: number, order: number[]) => order.flatMap((r) => range(base + 4 * r, 4));
    expect(f32(layer.q_proj.weight.bytes)).toEqual(rows(300, [0, 2, 1, 3]));
    expect(f32(layer.k_proj.weight.bytes)).toEqual(rows(400, [0, 2, 1, 3]));
    expect(f32(layer.v_proj.weight.bytes)).toEqual(range(500, 16));
    expect(f32(layer.o_proj.weight.bytes)).toEqual(range(600, 16));
    expect(f32(layer.input_layernorm!.weight.bytes)).toEqual(range(200, 4));
    expect(f32(layer.post_attention_layernorm!.weight.bytes)).toEqual(range(700, 4));
    expect(f32(layer.gate_proj!.weight.bytes)).toEqual(range(800, 8));
    expect(layer.down_proj.weight.shape).toEqual([4, 2]);
    expect(f32(layer.down_proj.weight.bytes)).toEqual(range(900, 8));
    expect(f32(layer.up_proj.weight.bytes)).toEqual(range(1000, 8));
    expect(f32(w.norm.weight.bytes)).toEqual(range(1100, 4));
    expect(f32(w.lm_head.bytes)).toEqual(range(1400, 12));
    expect(w.lm_head).not.toBe(w.embed_tokens);
  });

  it('permutes k with Hkv heads, not H', async () => {
    // D=8, H=2, Hkv=1, dh=4: k has one head of 4 rows.
    const m = randomModel({
      family: 'llama',
      hidden_size: 8,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      intermediate_size: 4,
      vocab_size: 5,
      max_position_embeddings: 4,
      tie_word_embeddings: true,
      num_hidden_layers: 2,
    });
    const bin = toLlama2cBin(m.description, m.weights);
    const kOffset = 28 + 4 * (5 * 8 + 2 * 8 + 2 * 8 * 8); // after embeddings, norms, wq
    const stored = new Float32Array(bin.buffer.slice(kOffset, kOffset + 4 * 4 * 8)); // layer 0 k [4, 8]
    const { weights } = await readLlama2c(file('k.bin', bin));
    const k = new Float32Array(weights.layers[0]!.k_proj.weight.bytes.slice().buffer);
    for (const [hf, old] of [
      [0, 0],
      [1, 2],
      [2, 1],
      [3, 3],
    ] as const) {
      expect([...k.subarray(hf * 8, hf * 8 + 8)]).toEqual([...stored.subarray(old * 8, old * 8 + 8)]);
    }
  });

  it('gives back the written model, tied and untied', async () => {
    for (const tie of [true, false]) {
      const m = randomModel({ family: 'llama', tie_word_embeddings: tie, seed: 9, num_hidden_layers: 3 });
      const { description, weights } = await readLlama2c(file('r.bin', toLlama2cBin(m.description, m.weights)));
      expect({ ...description, name: '', eos_token_ids: [] }).toEqual({ ...m.description, name: '', eos_token_ids: [] });
      expect(weights.lm_head === weights.embed_tokens).toBe(tie);
      expect(weights.lm_head.bytes).toEqual(m.weights.lm_head.bytes);
      weights.layers.forEach((layer, l) => {
        const want = m.weights.layers[l]!;
        for (const key of ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const) {
          expect(layer[key]!.weight.bytes, `${key} ${l}`).toEqual(want[key]!.weight.bytes);
          expect(layer[key]!.weight.shape).toEqual(want[key]!.weight.shape);
        }
      });
    }
  });

  it('refuses versioned exports and bad headers', async () => {
    const cases: [Uint8Array<ArrayBuffer>, string, string][] = [
      [
        binary([0x616b3432, 1, 64, 64], []),
        'unsupported',
        'llama2.c version 1 export (magic "ak42") is not supported; export the legacy format with `python export.py --version 0`',
      ],
      [binary([0x616b3432, 2], []), 'unsupported', 'version 2 export'],
      [new Uint8Array(20), 'truncated', '20 bytes is too short for a llama2.c header'],
      [binary([0, 2, 1, 1, 1, 3, 2], []), 'bad-header', 'dim = 0 in the llama2.c header must be positive'],
      [binary([4, 2, 1, 1, 1, 0, 2], []), 'bad-header', 'vocab_size = 0 in the llama2.c header must be non-zero'],
      [binary([4, 2, -1, 1, 1, 3, 2], []), 'bad-header', 'n_layers = -1'],
      [binary([6, 2, 1, 4, 1, 3, 2], []), 'bad-header', 'dim = 6 is not divisible by n_heads = 4'],
      [binary([8, 2, 1, 4, 3, 3, 2], []), 'bad-header', 'n_heads = 4 is not a multiple of n_kv_heads = 3'],
      [binary([6, 2, 1, 2, 1, 3, 2], []), 'bad-header', 'head size 3 must be even'],
      [binary([4, 2, 1, 1, 1, 3, 2], new Array(10).fill(0)), 'truncated', 'file is 68 bytes but its header [4, 2, 1, 1, 1, 3, 2] implies 508 bytes'],
      [binary([2 ** 30, 2 ** 30, 2 ** 30, 1, 1, 2 ** 30, 2 ** 30], []), 'truncated', 'implies'],
    ];
    for (const [bytes, code, fragment] of cases) {
      const err = await readLlama2cHeader(file('m/x.bin', bytes)).catch((e: unknown) => e);
      expect(err, fragment).toBeInstanceOf(ModelFormatError);
      expect((err as ModelFormatError).code).toBe(code);
      expect((err as Error).message).toContain('m/x.bin: ');
      expect((err as Error).message).toContain(fragment);
    }
    // One float too many: not this header's file.
    const tooLong = binary([4, 2, 1, 1, 1, 3, 2], new Array(121).fill(0));
    expect(((await readLlama2cHeader(file('x.bin', tooLong)).catch((e: unknown) => e)) as ModelFormatError).code).toBe('bad-header');
    expect(await readLlama2cHeader(file('x.bin', binary([4, 2, 1, 1, 1, 3, 2], new Array(120).fill(0))))).toMatchObject({ dim: 4, shared_classifier: true });
  });
});

const STORIES_BIN = SHARED + 'models/stories260K/llama2c/stories260K.bin';

describe.skipIf(skipWithoutFiles(STORIES_BIN))('stories260K.bin (../shared)', () => {
  it('has the header DESIGN.md gives and 28 + 4 x 264,128 bytes', async () => {
    const f: ModelFile = { path: 'stories260K.bin', blob: (await openAsBlob(STORIES_BIN)) as Blob };
    expect(f.blob.size).toBe(28 + 4 * 264128);
    expect(await readLlama2cHeader(f)).toEqual({
      dim: 64,
      hidden_dim: 172,
      n_layers: 5,
      n_heads: 8,
      n_kv_heads: 4,
      vocab_size: 512,
      seq_len: 512,
      shared_classifier: true,
    });
  });
});
