// Broken model shapes as declared, each refused with a ModelFormatError naming the culprit: config.json
// that does not parse, holds odd or unsupported values or disagrees with the tensors (Llama, GPT-2),
// and llama2.c headers and sizes. Weights files: checkpoint.malformed-weights.test.ts.

import type { ModelFile } from './files';
import { blobFile, CONFIG, describeMalformed, gpt2Files, llamaFiles, WEIGHTS, type Case } from './testing/malformed-checkpoints';
import { randomModel } from './testing/random-model';
import { toHfFiles, toLlama2cBin } from './testing/serialize';

const cases: Case[] = [];
const add = (name: string, files: ModelFile[], file: string) => cases.push({ name, files, file });

// A llama2.c checkpoint, built synchronously so cases can be listed before the tests run.
const l2c = randomModel({
  family: 'llama',
  num_hidden_layers: 2,
  vocab_size: 20,
  hidden_size: 8,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  intermediate_size: 12,
  max_position_embeddings: 6,
  tie_word_embeddings: true,
  seed: 6,
});
const l2cBytes = toLlama2cBin(l2c.description, l2c.weights);

const withConfig = (config: unknown) => [blobFile(CONFIG, typeof config === 'string' ? config : JSON.stringify(config)), llamaFiles[1]!];

async function buildCases(): Promise<void> {
  // Config files: broken, odd, unsupported, and inconsistent with the tensors.
  const config = JSON.parse(await llamaFiles[0]!.blob.text());
  add('config not JSON', withConfig('{ model_type: llama'), CONFIG);
  add('config empty', withConfig(''), CONFIG);
  add('config array', withConfig([config]), CONFIG);
  add('config null', withConfig('null'), CONFIG);
  add('config invalid UTF-8', [blobFile(CONFIG, new Uint8Array([0x7b, 0xff, 0x7d])), llamaFiles[1]!], CONFIG);
  const core = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size'];
  for (const key of [...core, 'model_type'])
    add(`config without ${key}`, withConfig({ ...config, [key]: undefined, ...(key === 'model_type' ? { architectures: ['BertModel'] } : {}) }), CONFIG);
  const oddValues: unknown[] = [0, -1, 1.5, '16', true, 2 ** 40, [16], {}];
  for (const key of [...core, 'num_key_value_heads', 'head_dim', 'max_position_embeddings']) {
    for (const v of oddValues) add(`config ${key} = ${JSON.stringify(v)}`, withConfig({ ...config, [key]: v }), CONFIG);
  }
  const oddKeys: [string, unknown][] = [
    ['model_type', 'mamba'],
    ['model_type', 'bert'],
    ['model_type', 'phi3'],
    ['rope_scaling', { type: 'yarn', factor: 4 }],
    ['rope_scaling', { rope_type: 'llama3', factor: 8 }],
    ['rope_scaling', { type: 'dynamic', factor: 2 }],
    ['rope_scaling', 'linear'],
    ['hidden_act', 'gelu'],
    ['hidden_act', 'relu'],
    ['rms_norm_eps', 0],
    ['rms_norm_eps', 'tiny'],
    ['rope_theta', -1],
    ['tie_word_embeddings', 'no'],
    ['attention_bias', 1],
    ['eos_token_id', 'eos'],
    ['bos_token_id', -1],
    ['eos_token_id', [1, 2.5]],
  ];
  for (const [key, v] of oddKeys) add(`config ${key} = ${JSON.stringify(v)}`, withConfig({ ...config, [key]: v }), CONFIG);
  add('config heads not dividing', withConfig({ ...config, num_attention_heads: 3, head_dim: undefined }), CONFIG);
  add('config kv heads not dividing', withConfig({ ...config, num_key_value_heads: 3 }), CONFIG);
  add('config odd head_dim', withConfig({ ...config, head_dim: 5 }), CONFIG);
  // Consistent configs that disagree with the tensors: the error names the weights file.
  const inconsistent: [string, Record<string, unknown>][] = [
    ['vocab_size + 1', { vocab_size: 41 }],
    ['hidden_size doubled', { hidden_size: 32 }],
    ['intermediate_size + 2', { intermediate_size: 26 }],
    ['num_hidden_layers 3', { num_hidden_layers: 3 }],
    ['num_hidden_layers 1', { num_hidden_layers: 1 }],
    ['num_key_value_heads = H', { num_key_value_heads: 4 }],
    ['head_dim doubled', { head_dim: 8 }],
    ['num_attention_heads 2', { num_attention_heads: 2, num_key_value_heads: 2 }],
    ['hidden_size 18 with an explicit head_dim', { hidden_size: 18, num_attention_heads: 2, num_key_value_heads: 2, head_dim: 8 }],
    ['attention_bias true', { attention_bias: true }],
    ['mlp_bias true', { mlp_bias: true }],
    ['model_type qwen2 (needs biases)', { model_type: 'qwen2' }],
    ['model_type qwen3 (needs q/k norm)', { model_type: 'qwen3' }],
  ];
  for (const [label, over] of inconsistent) add(`config vs tensors: ${label}`, withConfig({ ...config, ...over }), WEIGHTS);
  add('config model_type gpt2 on a llama folder', withConfig({ ...config, model_type: 'gpt2' }), CONFIG);
  // Tied on an untied-layout file without lm_head is fine; untied on a tied file misses lm_head.
  const tied = randomModel({ family: 'llama', tie_word_embeddings: true, seed: 8 });
  const tiedFiles = toHfFiles(tied.description, tied.weights, { folder: 'tiny' });
  const tiedConfig = JSON.parse(await tiedFiles[0]!.blob.text());
  add('config untied on a tied file', [blobFile(CONFIG, JSON.stringify({ ...tiedConfig, tie_word_embeddings: false })), tiedFiles[1]!], WEIGHTS);

  // GPT-2 configs that disagree with the tensors, or that this tool does not run.
  const G = 'g/model.safetensors';
  const gConfig = JSON.parse(await gpt2Files[0]!.blob.text());
  add('gpt2 n_positions mismatch', [blobFile('g/config.json', JSON.stringify({ ...gConfig, n_positions: 16 })), gpt2Files[1]!], G);
  add('gpt2 n_inner mismatch', [blobFile('g/config.json', JSON.stringify({ ...gConfig, n_inner: 16 })), gpt2Files[1]!], G);
  add('gpt2 activation relu', [blobFile('g/config.json', JSON.stringify({ ...gConfig, activation_function: 'relu' })), gpt2Files[1]!], 'g/config.json');
  add('gpt2 n_head not dividing', [blobFile('g/config.json', JSON.stringify({ ...gConfig, n_head: 3 })), gpt2Files[1]!], 'g/config.json');

  // llama2.c headers and sizes.
  const BIN = 'l2c/model.bin';
  const header = [...new Int32Array(l2cBytes.buffer, 0, 7)];
  const withHeader = (fields: number[]) => {
    const bytes = l2cBytes.slice();
    fields.forEach((v, i) => new DataView(bytes.buffer).setInt32(4 * i, v, true));
    return [blobFile(BIN, bytes)];
  };
  const fieldNames = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'];
  fieldNames.forEach((field, i) => {
    for (const v of [0, -1, 2 ** 31 - 1, -(2 ** 31), header[i]! + 1]) {
      if (i === 5 && v === header[i]! + 1) continue; // covered by the size checks below
      const fields = [...header];
      fields[i] = v;
      add(`llama2c ${field} = ${v}`, withHeader(fields), BIN);
    }
  });
  add('llama2c negative vocab (untied) without a classifier', withHeader(header.map((v, i) => (i === 5 ? -v : v))), BIN);
  add('llama2c v1 magic', [blobFile(BIN, new Uint8Array(new Int32Array([0x616b3432, 1, ...header]).buffer))], BIN);
  add('llama2c v2 magic', [blobFile(BIN, new Uint8Array(new Int32Array([0x616b3432, 2, ...header, 0, 0]).buffer))], BIN);
  for (const cut of [0, 3, 27, 28, 29, 100, l2cBytes.byteLength / 2, l2cBytes.byteLength - 4, l2cBytes.byteLength - 1]) {
    add(`llama2c truncated at ${cut}`, [blobFile(BIN, l2cBytes.slice(0, cut))], BIN);
  }
  for (const more of [1, 4, 1000]) {
    const bytes = new Uint8Array(l2cBytes.byteLength + more);
    bytes.set(l2cBytes);
    add(`llama2c ${more} extra bytes`, [blobFile(BIN, bytes)], BIN);
  }
}

await buildCases();

describeMalformed('malformed configs and llama2.c headers', cases);
