// Broken weights files, each refused with a ModelFormatError naming the culprit: safetensors cut
// short or with damaged length prefixes, headers and entries, missing or unexpected tensors, broken
// shards and indexes, GPT-2 tensors of the wrong layout. Configs: checkpoint.malformed-config.test.ts.

import type { ModelFile } from './files';
import { blobFile, describeMalformed, gpt2Files, llamaFiles, WEIGHTS, type Case } from './testing/malformed-checkpoints';
import { randomModel } from './testing/random-model';
import { rawSafetensors } from './testing/safetensors-writer';
import { toHfFiles } from './testing/serialize';

const cases: Case[] = [];
const add = (name: string, files: ModelFile[], file: string) => cases.push({ name, files, file });

async function bytesOf(f: ModelFile): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await f.blob.arrayBuffer());
}

type Entry = { dtype: unknown; shape: unknown; data_offsets: unknown };
interface Parsed {
  bytes: Uint8Array<ArrayBuffer>;
  n: number;
  header: Record<string, Entry>;
  data: Uint8Array;
}

function parse(bytes: Uint8Array<ArrayBuffer>): Parsed {
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  return { bytes, n, header, data: bytes.subarray(8 + n) };
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

// The sharded base checkpoint, built synchronously so cases can be listed before the tests run.
const qwen3 = randomModel({
  family: 'qwen3',
  num_hidden_layers: 2,
  vocab_size: 30,
  hidden_size: 16,
  num_attention_heads: 2,
  head_dim: 10,
  dtype: 'BF16',
  seed: 5,
});
const qwen3Files = toHfFiles(qwen3.description, qwen3.weights, { folder: 'q', shards: 3 });

const withWeights = (bytes: Uint8Array<ArrayBuffer>) => [llamaFiles[0]!, blobFile(WEIGHTS, bytes)];

async function buildCases(): Promise<void> {
  const base = parse(await bytesOf(llamaFiles[1]!));
  const size = base.bytes.byteLength;
  const dataStart = 8 + base.n;

  // Truncations: inside the length prefix, the header, and all over the data region.
  const cuts = new Set<number>([0, 1, 4, 7, 8, 9, 12, dataStart - 1, dataStart, dataStart + 1, size - 1, size - 4]);
  for (let k = 1; k < 12; k++) cuts.add(8 + Math.floor((k * base.n) / 12));
  for (let k = 1; k < 20; k++) cuts.add(dataStart + Math.floor((k * (size - dataStart)) / 20));
  for (const cut of [...cuts].sort((a, b) => a - b)) add(`truncated at ${cut} of ${size}`, withWeights(base.bytes.slice(0, cut)), WEIGHTS);

  // Header length prefix.
  const closing = new TextDecoder().decode(base.bytes.subarray(8, dataStart)).lastIndexOf('}');
  const lengths: [string, bigint][] = [
    ['0', 0n],
    ['1', 1n],
    ['cutting the closing brace', BigInt(closing)],
    ['one past the file', BigInt(size - 7)],
    ['the file size', BigInt(size)],
    ['2^32', 2n ** 32n],
    ['2^53', 2n ** 53n],
    ['2^64 - 1', 2n ** 64n - 1n],
    ['200 MB', 200_000_000n],
  ];
  for (const [label, declared] of lengths) {
    const bytes = base.bytes.slice();
    new DataView(bytes.buffer).setBigUint64(0, declared, true);
    add(`header length ${label}`, withWeights(bytes), WEIGHTS);
  }

  // Headers that are not JSON, or JSON of the wrong shape.
  const badHeaders: [string, unknown][] = [
    ['garbage', '!!! not json'],
    ['unterminated', '{"model.norm.weight": {"dtype": "F32"'],
    ['array', '[]'],
    ['null', 'null'],
    ['number', '123'],
    ['string', '"str"'],
    ['true', 'true'],
    ['empty object', {}],
    ['only metadata', { __metadata__: { format: 'pt' } }],
    ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])],
    ['deep nesting', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['metadata not an object', { ...base.header, __metadata__: [1] }],
    ['BOM prefix', '\ufeff' + JSON.stringify(base.header)],
  ];
  for (const [label, header] of badHeaders) add(`header ${label}`, withWeights(rawSafetensors(header, base.data)), WEIGHTS);

  // Entry mutations on a few tensors spread over the file.
  const names = Object.keys(base.header).filter((n) => n !== '__metadata__');
  const targets = [
    'model.embed_tokens.weight',
    'model.layers.0.input_layernorm.weight',
    'model.layers.0.self_attn.q_proj.weight',
    'model.layers.1.mlp.down_proj.weight',
    'model.norm.weight',
    'lm_head.weight',
  ];
  const entryMutations: [string, (e: Entry, all: Record<string, Entry>) => void][] = [
    ['dtype F16 (byte count off)', (e) => (e.dtype = 'F16')],
    ['dtype F64 (byte count off)', (e) => (e.dtype = 'F64')],
    ['dtype I32 (same size, not a weight dtype)', (e) => (e.dtype = 'I32')],
    ['dtype U32 (same size, not a weight dtype)', (e) => (e.dtype = 'U32')],
    ['unknown dtype Q4_K', (e) => (e.dtype = 'Q4_K')],
    ['dtype number', (e) => (e.dtype = 4)],
    [
      'shape reshaped (same byte count)',
      (e) => {
        const shape = e.shape as number[];
        e.shape = shape.length === 1 ? [shape[0]! / 2, 2] : shape[0] === shape[1] ? [shape[0]! / 2, shape[1]! * 2] : [shape[1]!, shape[0]!];
      },
    ],
    ['shape flattened', (e) => (e.shape = [(e.shape as number[]).reduce((a, b) => a * b, 1)].concat((e.shape as number[]).length === 1 ? [1] : []))],
    ['shape with a leading 1', (e) => (e.shape = [1, ...(e.shape as number[])])],
    ['shape [2^40, 2^40]', (e) => (e.shape = [2 ** 40, 2 ** 40])],
    ['shape [2^53, 2^53, 0]', (e) => (e.shape = [2 ** 53, 2 ** 53, 0])],
    ['shape negative', (e) => (e.shape = [-1, ...(e.shape as number[])])],
    ['shape fractional', (e) => (e.shape = [1.5])],
    ['shape a string', (e) => (e.shape = '16')],
    ['shape missing', (e) => delete (e as Partial<Entry>).shape],
    ['offsets shifted by 4', (e) => (e.data_offsets = (e.data_offsets as number[]).map((x) => x + 4))],
    ['offsets reversed', (e) => (e.data_offsets = [...(e.data_offsets as number[])].reverse())],
    ['offsets past the data', (e) => (e.data_offsets = (e.data_offsets as number[]).map((x) => x + size))],
    ['offsets at 2^60', (e) => (e.data_offsets = [2 ** 60, 2 ** 60 + 4])],
    ['offsets strings', (e) => (e.data_offsets = (e.data_offsets as number[]).map(String))],
    ['offsets of length 3', (e) => (e.data_offsets = [...(e.data_offsets as number[]), 0])],
    ['entry not an object', (_e, all) => Object.assign(all, { __target__: 1 })],
    ['deleted', () => {}],
    [
      'overlapping another tensor',
      (e, all) => {
        const tensors = Object.values(all).filter((x) => x !== e && Array.isArray(x.data_offsets));
        const other = tensors.find((x) => (x.data_offsets as number[])[0]! < (e.data_offsets as number[])[0]!) ?? tensors[0]!;
        e.data_offsets = other.data_offsets;
        e.shape = other.shape;
        e.dtype = other.dtype;
      },
    ],
  ];
  for (const target of targets) {
    for (const [label, mutate] of entryMutations) {
      const header = clone(base.header);
      if (label === 'deleted') delete header[target];
      else if (label === 'entry not an object') (header as Record<string, unknown>)[target] = [1, 2];
      else mutate(header[target]!, header);
      delete (header as Record<string, unknown>)['__target__'];
      add(`${target}: ${label}`, withWeights(rawSafetensors(header, base.data)), WEIGHTS);
    }
  }

  // Every tensor missing in turn.
  for (const name of names) {
    const header = clone(base.header);
    delete header[name];
    add(`missing ${name}`, withWeights(rawSafetensors(header, base.data)), WEIGHTS);
  }

  // Tensors the config rules out.
  const extra = (name: string, shape: number[]) => {
    const header = clone(base.header);
    header[name] = { dtype: 'F32', shape, data_offsets: [0, 4 * shape.reduce((a, b) => a * b, 1)] };
    // Reuse bytes of the first tensor by moving it: give the new tensor its own region at the end.
    const data = new Uint8Array(base.data.byteLength + 4 * shape.reduce((a, b) => a * b, 1));
    data.set(base.data);
    header[name]!.data_offsets = [base.data.byteLength, data.byteLength];
    add(`unexpected ${name}`, withWeights(rawSafetensors(header, data)), WEIGHTS);
  };
  extra('model.layers.2.input_layernorm.weight', [16]);
  extra('model.layers.0.self_attn.q_proj.bias', [16]);
  extra('model.layers.1.mlp.down_proj.bias', [16]);
  extra('model.layers.0.self_attn.q_norm.weight', [4]);

  // Sharded checkpoints.
  const [qConfig, s1, s2, s3, qIndex] = qwen3Files as [ModelFile, ModelFile, ModelFile, ModelFile, ModelFile];
  const INDEX = 'q/model.safetensors.index.json';
  add('shard 1 missing', [qConfig, s2, s3, qIndex], INDEX);
  add('shard 2 missing', [qConfig, s1, s3, qIndex], INDEX);
  add('shard 3 missing', [qConfig, s1, s2, qIndex], INDEX);
  add('shard in another folder', [qConfig, { ...s1, path: 'other/model-00001-of-00003.safetensors' }, s2, s3, qIndex], INDEX);
  const index = JSON.parse(await qIndex.blob.text());
  const firstName = Object.keys(index.weight_map)[0]!;
  add(
    'index maps a tensor to the wrong shard',
    [qConfig, s1, s2, s3, blobFile(INDEX, JSON.stringify({ ...index, weight_map: { ...index.weight_map, [firstName]: 'model-00003-of-00003.safetensors' } }))],
    'q/model-00003-of-00003.safetensors',
  );
  add(
    'index drops a needed tensor',
    [qConfig, s1, s2, s3, blobFile(INDEX, JSON.stringify({ ...index, weight_map: { ...index.weight_map, [firstName]: undefined } }))],
    INDEX,
  );
  for (const [label, body] of [
    ['not JSON', '{'],
    ['an array', '[]'],
    ['without weight_map', '{"metadata": {}}'],
    ['weight_map an array', '{"weight_map": []}'],
    ['weight_map value a number', `{"weight_map": {"${firstName}": 3}}`],
    ['weight_map empty', '{"weight_map": {}}'],
  ] as const) {
    add(`index ${label}`, [qConfig, s1, s2, s3, blobFile(INDEX, body)], INDEX);
  }
  const s2Bytes = await bytesOf(s2);
  add('shard 2 truncated', [qConfig, s1, blobFile(s2.path, s2Bytes.slice(0, s2Bytes.byteLength - 3)), s3, qIndex], s2.path);
  const s2Parsed = parse(s2Bytes);
  const s2Header = clone(s2Parsed.header);
  const s2Name = Object.keys(s2Header).find((n) => n !== '__metadata__')!;
  s2Header[s2Name]!.shape = [2 ** 40, 2 ** 40];
  add('shard 2 huge shape', [qConfig, s1, blobFile(s2.path, rawSafetensors(s2Header, s2Parsed.data)), s3, qIndex], s2.path);
  add('shard 2 declared header past the end', [qConfig, s1, blobFile(s2.path, rawSafetensors('{}', new Uint8Array(0), 1000n)), s3, qIndex], s2.path);

  // GPT-2.
  const gBase = parse(await bytesOf(gpt2Files[1]!));
  const G = 'g/model.safetensors';
  const gWith = (header: Record<string, Entry>) => [gpt2Files[0]!, blobFile(G, rawSafetensors(header, gBase.data))];
  for (const name of ['wpe.weight', 'h.0.attn.c_attn.bias', 'h.0.mlp.c_fc.weight', 'ln_f.bias', 'wte.weight']) {
    const header = clone(gBase.header);
    delete header[name];
    add(`gpt2 missing ${name}`, gWith(header), G);
  }
  {
    const header = clone(gBase.header);
    header['h.0.attn.c_attn.weight']!.shape = [24, 8]; // Linear layout instead of Conv1D
    add('gpt2 c_attn stored [3D, D]', gWith(header), G);
    const h2 = clone(gBase.header);
    h2['h.0.attn.bias']!.dtype = 'X8';
    add('gpt2 mask buffer of unknown dtype', gWith(h2), G);
    const h3 = clone(gBase.header);
    h3['h.0.mlp.c_proj.weight']!.dtype = 'I16';
    add('gpt2 c_proj as I16', gWith(h3), G);
  }
}

await buildCases();

describeMalformed('malformed weights files', cases, 200);
