// Mutators that know the formats we read: safetensors headers (dtypes, shapes, offsets, names,
// the length prefix), config.json keys, the sharded index's weight_map, tokenizer.json's model
// and pipeline, tokenizer_config.json's token fields, and the field layout of llama2.c .bin and
// tokenizer.bin files. They only build inputs; the suites run the parsers.

import { rawSafetensors } from '../src/model/testing/safetensors-writer';
import { BOUNDARY_INTS, INVALID_UTF8, mutateBytes, nearbyInts, type IntField, type Mutated } from './bytes';
import {
  cloneJson,
  deepNesting,
  hugeString,
  interestingNumber,
  interestingValue,
  jsonText,
  mutateJson,
  nudge,
  ODD_STRINGS,
  RawJson,
  retype,
  serialiseJson,
} from './json';
import type { Rng } from './rng';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RawJson);
const define = (o: Json, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });

// ---------------------------------------------------------------------------------------------
// safetensors

export interface SafetensorsParts {
  header: Json;
  /** The data region (everything after the header). */
  data: Uint8Array;
}

/** Splits a valid safetensors file into its header object and data region. */
export function splitSafetensors(bytes: Uint8Array): SafetensorsParts {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Json, data: bytes.subarray(8 + n) };
}

const ST_DTYPES: readonly unknown[] = [
  'F32',
  'F16',
  'BF16',
  'F64',
  'I64',
  'I32',
  'I16',
  'I8',
  'U8',
  'U16',
  'U32',
  'U64',
  'BOOL',
  'F8_E4M3',
  'F8_E5M2',
  'Q4_K',
  'f32',
  'F32 ',
  '',
  42,
  null,
  ['F32'],
];

function shapeOp(rng: Rng, shape: unknown): [unknown, string] {
  const s = Array.isArray(shape) ? (shape as unknown[]).slice() : [];
  const nums = s.filter((x): x is number => typeof x === 'number');
  return rng.weighted<() => [unknown, string]>([
    [2, () => [s.slice().reverse(), 'dims reversed']],
    [2, () => (s.length > 0 ? ((s[rng.int(s.length)] = nudge(rng, Number(s[0]) || 1)), [s, 'one dim nudged']) : [[1], 'scalar made [1]'])],
    [2, () => (s.length > 0 ? ((s[rng.int(s.length)] = rng.pick(BOUNDARY_INTS)), [s, 'one dim boundary']) : [[0], 'scalar made [0]'])],
    [1, () => [[...s, 1], 'trailing 1']],
    [1, () => [[1, ...s], 'leading 1']],
    [1, () => [[0, ...s], 'leading 0']],
    [1, () => [[nums.reduce((a, b) => a * b, 1)], 'flattened']],
    [1, () => [[], 'scalar']],
    [1, () => [[2 ** 40, 2 ** 40], 'huge']],
    [1, () => [[2 ** 53, 2 ** 53, 0], 'huge times zero']],
    [1, () => [s.map((x) => -Number(x)), 'negative']],
    [1, () => [s.map((x) => Number(x) + 0.5), 'fractional']],
    [1, () => [s.map(String), 'strings']],
    [1, () => [Array.from({ length: rng.pick([64, 10_000, 100_000]) }, () => 1), 'very many dims']],
    [1, () => [retype(rng, shape), 'retyped']],
  ])();
}

function offsetsOp(rng: Rng, offsets: unknown, others: unknown[], dataLength: number): [unknown, string] {
  const o = Array.isArray(offsets) ? (offsets as number[]).slice() : [0, 0];
  const [a, b] = [Number(o[0]) || 0, Number(o[1]) || 0];
  const k = rng.pick([1, 2, 4, 8, b - a, dataLength]);
  return rng.weighted<() => [unknown, string]>([
    [2, () => [[a + k, b + k], `shifted by ${k}`]],
    [1, () => [[a - k, b - k], `shifted by -${k}`]],
    [2, () => [[a, b + rng.pick([-4, -1, 1, 4])], 'end moved']],
    [1, () => [[b, a], 'reversed']],
    [2, () => [others.length > 0 ? cloneJson(rng.pick(others)) : [0, 0], 'copied from another tensor']],
    [1, () => [[rng.pick(BOUNDARY_INTS), rng.pick(BOUNDARY_INTS)], 'boundary']],
    [1, () => [[a, a], 'empty']],
    [1, () => [[a, b, 0], 'three offsets']],
    [1, () => [[a], 'one offset']],
    [1, () => [[String(a), String(b)], 'strings']],
    [1, () => [[a + 0.5, b + 0.5], 'fractional']],
    [1, () => [[new RawJson('NaN'), b], 'NaN']],
    [1, () => [[dataLength, dataLength + (b - a)], 'just past the end']],
  ])();
}

/** One edit of a safetensors header that keeps it a JSON object. */
function headerOp(rng: Rng, header: Json, dataLength: number): string {
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  if (names.length === 0) {
    define(header, 'x', { dtype: 'F32', shape: [1], data_offsets: [0, 4] });
    return 'entry added to an empty header';
  }
  const name = rng.pick(names);
  const entry = header[name];
  const e: Json = isObject(entry) ? entry : {};
  const others = names.filter((n) => n !== name).map((n) => (isObject(header[n]) ? (header[n] as Json)['data_offsets'] : undefined));
  return rng.weighted<() => string>([
    [3, () => ((e['dtype'] = rng.pick(ST_DTYPES)), `${name}: dtype ${String(e['dtype'])}`)],
    [
      4,
      () => {
        const [v, what] = shapeOp(rng, e['shape']);
        e['shape'] = v;
        return `${name}: shape ${what}`;
      },
    ],
    [
      4,
      () => {
        const [v, what] = offsetsOp(rng, e['data_offsets'], others, dataLength);
        e['data_offsets'] = v;
        return `${name}: offsets ${what}`;
      },
    ],
    [1, () => (delete e[rng.pick(['dtype', 'shape', 'data_offsets'])], `${name}: field deleted`)],
    [2, () => (delete header[name], `${name}: deleted`)],
    [
      2,
      () => {
        // Another layer, another prefix, or a name no reader expects.
        const to = rng.pick([
          name.replace(/\.(\d+)\./, (_m, d: string) => `.${Number(d) + rng.pick([1, 7, 1000])}.`),
          name.replace(/^model\./, ''),
          `model.${name}`,
          `transformer.${name}`,
          name.replace('weight', 'bias'),
          `${name}\u0000`,
          '',
          hugeString(rng).slice(0, rng.pick([300, 100_000])),
          rng.pick(ODD_STRINGS),
        ]);
        delete header[name];
        define(header, to, e);
        return `${name}: renamed`;
      },
    ],
    [1, () => (define(header, `${name}.copy`, cloneJson(e)), `${name}: duplicated`)],
    [
      1,
      () => {
        const other = rng.pick(names);
        const t = header[other];
        header[other] = header[name];
        header[name] = t;
        return `${name}: swapped with ${other}`;
      },
    ],
    [1, () => ((header[name] = interestingValue(rng, entry)), `${name}: entry replaced`)],
    [
      1,
      () => (
        (header['__metadata__'] = rng.pick<unknown>([null, [], 'pt', 1, { format: 'pt', x: hugeString(rng) }, { total: 2 ** 60 }, deepNesting(rng)])),
        '__metadata__ replaced'
      ),
    ],
  ])();
}

/** A broken (or, sometimes, harmlessly changed) variant of a valid safetensors file. */
export function mutateSafetensors(rng: Rng, seed: Uint8Array, other?: Uint8Array): Mutated<Uint8Array<ArrayBuffer>> {
  const parts = splitSafetensors(seed);
  const lengthField: IntField = { offset: 0, width: 8, name: 'header length' };
  const strategy = rng.weighted<string>([
    [5, 'header'],
    [2, 'json'],
    [1, 'prefix'],
    [3, 'bytes'],
    [1, 'data'],
  ]);
  if (strategy === 'bytes') return mutateBytes(rng, seed, { other, intFields: [lengthField], maxOps: 3 });

  let header = cloneJson(parts.header) as unknown;
  const ops: string[] = [];
  if (strategy === 'header') {
    for (let k = rng.range(1, 3); k > 0; k--) ops.push(headerOp(rng, header as Json, parts.data.byteLength));
  } else if (strategy === 'json') {
    const m = mutateJson(rng, header, { other: other ? splitSafetensors(other).header : undefined });
    header = m.value;
    ops.push(...m.ops);
  }
  let data: Uint8Array = parts.data;
  if (strategy === 'data') {
    const m = mutateBytes(rng, parts.data, { maxOps: 2 });
    data = m.value;
    ops.push(...m.ops.map((o) => `data: ${o}`));
  }
  const headerBytes = strategy === 'json' ? serialiseJson(rng, header, 0.3) : { value: new TextEncoder().encode(jsonText(header)), ops: [] };
  ops.push(...headerBytes.ops);
  let declared: bigint | undefined;
  if (strategy === 'prefix' || rng.chance(0.1)) {
    const n = headerBytes.value.byteLength;
    declared = BigInt.asUintN(
      64,
      BigInt(rng.pick([n - 1, n + 1, n - 8, n + 8, 0, 1, 2, n + data.byteLength, n + data.byteLength + 1, 2 ** 32, 2 ** 53, 100_000_001, -1])),
    );
    ops.push(`header length ${declared}`);
  }
  return { value: rawSafetensors(headerBytes.value, data, declared), ops };
}

// ---------------------------------------------------------------------------------------------
// config.json

const CONFIG_NUMBERS = [
  'vocab_size',
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'head_dim',
  'max_position_embeddings',
  'rms_norm_eps',
  'rope_theta',
  'bos_token_id',
  'eos_token_id',
  'sliding_window',
  'max_window_layers',
  'n_embd',
  'n_layer',
  'n_head',
  'n_inner',
  'n_positions',
  'n_ctx',
  'layer_norm_epsilon',
];

const CONFIG_CHOICES: Readonly<Record<string, readonly unknown[]>> = {
  model_type: ['llama', 'mistral', 'qwen2', 'qwen3', 'gpt2', 'bert', 'mamba', 'phi3', 'LLAMA', '', 42, null, ['llama']],
  architectures: [
    ['LlamaForCausalLM'],
    ['GPT2LMHeadModel'],
    ['Qwen3ForCausalLM'],
    ['BertModel'],
    [],
    ['x', 'MistralForCausalLM'],
    'LlamaForCausalLM',
    [42],
    null,
  ],
  hidden_act: ['silu', 'swish', 'gelu', 'relu', 'gelu_new', '', null, 3],
  activation_function: ['gelu_new', 'gelu', 'gelu_fast', 'gelu_pytorch_tanh', 'relu', 'silu', '', null],
  torch_dtype: ['float32', 'float16', 'bfloat16', 'int8', 'float64', '', 3, null],
  dtype: ['float32', 'bfloat16', 'auto', null],
  rope_scaling: [
    null,
    { type: 'default' },
    { rope_type: 'default' },
    { type: 'yarn', factor: 4 },
    { rope_type: 'llama3', factor: 8 },
    'linear',
    [],
    { type: null },
  ],
  rope_parameters: [
    null,
    { rope_type: 'default', rope_theta: 10000 },
    { rope_theta: -1 },
    { rope_theta: 'big' },
    { rope_type: 'yarn' },
    { rope_theta: new RawJson('NaN') },
  ],
  tie_word_embeddings: [true, false, 'no', 0, 1, null],
  attention_bias: [true, false, 1, 'true', null],
  mlp_bias: [true, false, null, []],
  use_sliding_window: [true, false, 'yes', null],
  layer_types: [['full_attention'], ['sliding_attention', 'full_attention'], [], 'sliding_attention', null],
  add_cross_attention: [true, false],
  scale_attn_weights: [true, false, null],
  scale_attn_by_inverse_layer_idx: [true, false],
  _name_or_path: ['', 'x', null, 42],
};

/** config.json with known keys changed: sizes nudged or broken, families swapped, options retyped. */
export function mutateConfig(rng: Rng, config: Json, other?: Json): Mutated<unknown> {
  let value: unknown = cloneJson(config);
  const ops: string[] = [];
  for (let k = rng.range(1, 3); k > 0; k--) {
    if (!isObject(value)) break;
    const c = value;
    const op = rng.weighted<string>([
      [6, 'number'],
      [3, 'choice'],
      [2, 'delete'],
      [1, 'eos'],
      [2, 'generic'],
    ]);
    if (op === 'number') {
      const present = CONFIG_NUMBERS.filter((key) => key in c);
      const key = rng.chance(0.85) && present.length > 0 ? rng.pick(present) : rng.pick(CONFIG_NUMBERS);
      const cur = c[key];
      const v = typeof cur === 'number' && rng.chance(0.6) ? (rng.chance(0.5) ? nudge(rng, cur) : nearbyInts(rng, cur)) : interestingNumber(rng);
      // Sometimes a value of another kind altogether: strings, lists, deep nesting, huge text.
      c[key] = rng.chance(0.1) ? retype(rng, cur) : rng.chance(0.1) ? interestingValue(rng, cur) : v;
      ops.push(`${key} = ${v instanceof RawJson ? v.text : String(c[key]).slice(0, 40)}`);
    } else if (op === 'choice') {
      const key = rng.pick(Object.keys(CONFIG_CHOICES));
      c[key] = cloneJson(rng.pick(CONFIG_CHOICES[key]!));
      ops.push(`${key} = ${jsonText(c[key]).slice(0, 60)}`);
    } else if (op === 'delete') {
      const key = rng.pick(Object.keys(c).length > 0 ? Object.keys(c) : ['x']);
      delete c[key];
      ops.push(`delete ${key}`);
    } else if (op === 'eos') {
      c['eos_token_id'] = rng.pick<unknown>([[1, 2], [], [-1], [1, 2.5], [2 ** 53], 'eos', null, [null]]);
      ops.push('eos_token_id list');
    } else {
      const m = mutateJson(rng, c, { other, maxOps: 1 });
      value = m.value;
      ops.push(...m.ops);
    }
  }
  return { value, ops };
}

// ---------------------------------------------------------------------------------------------
// model.safetensors.index.json

/** The index with its weight_map changed: tensors moved, lost, invented, or pointed outside. */
export function mutateIndex(rng: Rng, index: Json, shards: readonly string[]): Mutated<unknown> {
  let value: unknown = cloneJson(index);
  const ops: string[] = [];
  for (let k = rng.range(1, 3); k > 0; k--) {
    if (!isObject(value)) break;
    const map = value['weight_map'];
    if (!isObject(map) || Object.keys(map).length === 0 || rng.chance(0.15)) {
      const m = mutateJson(rng, value, { maxOps: 1 });
      value = m.value;
      ops.push(...m.ops);
      continue;
    }
    const names = Object.keys(map);
    const name = rng.pick(names);
    ops.push(
      rng.weighted<() => string>([
        [3, () => ((map[name] = rng.pick(shards)), `${name} -> another shard`)],
        [
          2,
          () => (
            (map[name] = rng.pick<unknown>([
              'missing.safetensors',
              '../model.safetensors',
              '/etc/passwd',
              '',
              'model.safetensors.index.json',
              'config.json',
              'sub/' + shards[0],
              3,
              null,
              [shards[0]],
              hugeString(rng),
            ])),
            `${name} -> odd target`
          ),
        ],
        [2, () => (delete map[name], `${name} dropped`)],
        [1, () => (define(map, name.replace(/\.(\d+)\./, '.99.'), rng.pick(shards)), 'tensor invented')],
        [1, () => (define(map, rng.pick(ODD_STRINGS), rng.pick(shards)), 'odd tensor name')],
        [
          1,
          () => {
            for (let i = 0; i < rng.pick([1000, 50_000]); i++) define(map, `ghost.${i}.weight`, rng.pick(shards));
            return 'many ghosts';
          },
        ],
        [1, () => (((value as Json)['metadata'] = interestingValue(rng)), 'metadata replaced')],
      ])(),
    );
  }
  return { value, ops };
}

// ---------------------------------------------------------------------------------------------
// tokenizer.json

const NORMALIZERS: readonly unknown[] = [
  null,
  { type: 'NFC' },
  { type: 'NFKC' },
  { type: 'NFD' },
  { type: 'Lowercase' },
  { type: 'Strip', strip_left: true, strip_right: true },
  { type: 'Prepend', prepend: '\u2581' },
  { type: 'Prepend', prepend: '' },
  { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
  { type: 'Replace', pattern: { Regex: '(' }, content: 'x' },
  { type: 'Replace', pattern: { Regex: '(a+)+$' }, content: '' },
  { type: 'Replace', pattern: {}, content: 1 },
  { type: 'Sequence', normalizers: [] },
  { type: 'Sequence', normalizers: 'NFC' },
  { type: 'Sequence', normalizers: [null, { type: 'NFC' }] },
  { type: 'BertNormalizer', clean_text: true, lowercase: true },
  { type: 'Bogus' },
  { type: 42 },
  {},
  'NFC',
];
const PRE_TOKENIZERS: readonly unknown[] = [
  null,
  { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  { type: 'ByteLevel', add_prefix_space: 'yes', use_regex: 3 },
  { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
  { type: 'Metaspace', replacement: '', prepend_scheme: 'first' },
  { type: 'Metaspace', replacement: 'ab', prepend_scheme: 'bogus' },
  { type: 'Metaspace' },
  { type: 'Whitespace' },
  { type: 'WhitespaceSplit' },
  { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Isolated', invert: false },
  { type: 'Split', pattern: { Regex: '(' }, behavior: 'Removed' },
  { type: 'Split', pattern: { Regex: '(a|aa)+$' }, behavior: 'Isolated' },
  { type: 'Split', pattern: { String: '' }, behavior: 'Bogus' },
  { type: 'Split', pattern: { Regex: '\\p{L}+' }, behavior: 'MergedWithNext', invert: true },
  { type: 'Digits', individual_digits: true },
  { type: 'Punctuation' },
  { type: 'BertPreTokenizer' },
  { type: 'Sequence', pretokenizers: [{ type: 'Whitespace' }, { type: 'ByteLevel' }] },
  { type: 'Sequence', pretokenizers: null },
  { type: 'Sequence', pretokenizers: [{}] },
  { type: 'Bogus' },
  [],
  'ByteLevel',
];
const DECODERS: readonly unknown[] = [
  null,
  { type: 'ByteLevel' },
  { type: 'Metaspace', replacement: '\u2581' },
  { type: 'ByteFallback' },
  { type: 'Fuse' },
  { type: 'Strip', content: ' ', start: 1, stop: 0 },
  { type: 'Strip', content: '', start: -1, stop: 2 ** 31 },
  { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
  { type: 'Replace', pattern: { Regex: '[' }, content: '' },
  { type: 'WordPiece', prefix: '##', cleanup: true },
  { type: 'BPEDecoder', suffix: '</w>' },
  { type: 'CTC' },
  { type: 'Sequence', decoders: [] },
  { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Bogus' }] },
  { type: 'Bogus' },
  7,
];
const POST_PROCESSORS: readonly unknown[] = [
  null,
  { type: 'ByteLevel', trim_offsets: false },
  {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [],
    special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
  },
  { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<nope>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [], special_tokens: {} },
  {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }],
    pair: [],
    special_tokens: { '<s>': { id: '<s>', ids: [2 ** 31], tokens: ['<s>'] } },
  },
  { type: 'TemplateProcessing', single: 'A', pair: null, special_tokens: [] },
  { type: 'TemplateProcessing', single: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [], special_tokens: {} },
  { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] },
  { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0] },
  { type: 'Sequence', processors: [{ type: 'ByteLevel' }, null] },
  { type: 'Bogus' },
];
const MODEL_TYPES: readonly unknown[] = ['BPE', 'WordPiece', 'Unigram', 'WordLevel', 'bpe', '', 'Bogus', 42, null];

function vocabOp(rng: Rng, model: Json): string {
  const vocab = model['vocab'];
  if (!isObject(vocab)) {
    model['vocab'] = rng.pick<unknown>([
      {},
      { a: 0 },
      [
        ['a', 0],
        ['b', -1],
      ],
      [['a', 'x']],
      [[1, 0]],
      'vocab',
    ]);
    return 'vocab replaced';
  }
  const keys = Object.keys(vocab);
  const key = keys.length > 0 ? rng.pick(keys) : 'a';
  return rng.weighted<() => string>([
    [
      3,
      () => (
        (vocab[key] = rng.pick<unknown>([-1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 1.5, '3', null, vocab[rng.pick(keys)], keys.length, keys.length + 1000])),
        `vocab[${key}] id changed`
      ),
    ],
    [2, () => (delete vocab[key], `vocab[${key}] deleted`)],
    [
      1,
      () => {
        for (const k of keys.slice(0, rng.int(keys.length))) delete vocab[k];
        return 'vocab thinned';
      },
    ],
    [
      2,
      () => {
        const to = rng.pick([...ODD_STRINGS, hugeString(rng).slice(0, 10_000)]);
        const id = vocab[key];
        delete vocab[key];
        define(vocab, to, id);
        return `vocab[${key}] renamed`;
      },
    ],
    [1, () => (define(vocab, `extra${rng.int(1000)}`, rng.pick([keys.length, 2 ** 31 - 1, 0])), 'vocab entry added')],
    [
      1,
      () => {
        const pairs = Object.entries(vocab).map(([p, id]) => [p, typeof id === 'number' ? -id / 100 : 0]);
        model['vocab'] = pairs;
        return 'vocab as Unigram pairs';
      },
    ],
    [
      1,
      () => {
        for (let i = 0; i < rng.pick([1000, 20_000]); i++) define(vocab, `big${i}`, keys.length + i);
        return 'vocab grown';
      },
    ],
  ])();
}

function mergesOp(rng: Rng, model: Json): string {
  const merges = model['merges'];
  if (!Array.isArray(merges)) {
    model['merges'] = rng.pick<unknown>([[], ['a b'], [['a', 'b']], 'a b', null]);
    return 'merges replaced';
  }
  const i = merges.length > 0 ? rng.int(merges.length) : 0;
  return rng.weighted<() => string>([
    [
      2,
      () => (
        (merges[i] = rng.pick<unknown>(['zz qq', 'a', 'a b c', '', ' ', 'a  b', '\u2581 \u2581', ['a', 'b'], ['a'], [1, 2], 3, null])),
        `merge ${i} replaced`
      ),
    ],
    [2, () => (merges.splice(i, 1), `merge ${i} deleted`)],
    [1, () => (merges.push(...merges.slice(0, 64)), 'merges duplicated')],
    [
      1,
      () => {
        merges.reverse();
        return 'merges reversed';
      },
    ],
    [
      1,
      () => {
        model['merges'] = merges.map((m) => (typeof m === 'string' ? m.split(' ') : m));
        return 'merges as pairs';
      },
    ],
    [
      1,
      () => {
        for (let k = 0; k < rng.pick([1000, 20_000]); k++) merges.push(`m${k} n${k}`);
        return 'merges of unknown pieces';
      },
    ],
  ])();
}

function addedTokensOp(rng: Rng, json: Json): string {
  const list = json['added_tokens'];
  if (!Array.isArray(list) || list.length === 0 || rng.chance(0.2)) {
    json['added_tokens'] = rng.pick<unknown>([
      null,
      {},
      'x',
      [],
      [{ id: 0, content: '<s>' }],
      [{ id: -1, content: 'x' }],
      [{ id: 2 ** 31, content: 'big', special: true }],
      [{ content: 'noid' }],
      [{ id: 1.5, content: 'x' }],
    ]);
    return 'added_tokens replaced';
  }
  const t = list[rng.int(list.length)];
  const token: Json = isObject(t) ? t : {};
  const field = rng.pick(['id', 'content', 'special', 'lstrip', 'rstrip', 'normalized', 'single_word']);
  token[field] =
    field === 'id'
      ? rng.pick<unknown>([-1, 2 ** 31, 2 ** 53, 0, '1', null, 1.5])
      : field === 'content'
        ? rng.pick<unknown>([...ODD_STRINGS, 3, null, hugeString(rng)])
        : rng.pick<unknown>([true, false, 'yes', null, 1]);
  return `added token ${field} changed`;
}

/** tokenizer.json with its model or pipeline changed. */
export function mutateTokenizerJson(rng: Rng, json: Json, other?: Json): Mutated<unknown> {
  let value: unknown = cloneJson(json);
  const ops: string[] = [];
  for (let k = rng.range(1, 3); k > 0; k--) {
    if (!isObject(value)) break;
    const j = value;
    const model: Json = isObject(j['model']) ? j['model'] : (j['model'] = {});
    const op = rng.weighted<() => string>([
      [2, () => ((model['type'] = rng.pick(MODEL_TYPES)), `model.type = ${String(model['type'])}`)],
      [4, () => vocabOp(rng, model)],
      [3, () => mergesOp(rng, model)],
      [2, () => ((j['pre_tokenizer'] = cloneJson(rng.pick(PRE_TOKENIZERS))), 'pre_tokenizer swapped')],
      [2, () => ((j['normalizer'] = cloneJson(rng.pick(NORMALIZERS))), 'normalizer swapped')],
      [2, () => ((j['decoder'] = cloneJson(rng.pick(DECODERS))), 'decoder swapped')],
      [2, () => ((j['post_processor'] = cloneJson(rng.pick(POST_PROCESSORS))), 'post_processor swapped')],
      [2, () => addedTokensOp(rng, j)],
      [
        1,
        () => {
          const key = rng.pick([
            'unk_token',
            'byte_fallback',
            'fuse_unk',
            'continuing_subword_prefix',
            'end_of_word_suffix',
            'dropout',
            'ignore_merges',
            'max_input_chars_per_word',
          ]);
          model[key] = rng.pick<unknown>([null, true, false, '', '##', '<unk>', '<nope>', 2, -1, 1.5, 2 ** 31]);
          return `model.${key} changed`;
        },
      ],
      [
        1,
        () => {
          // A pipeline nested deeper than any recursive walker can follow.
          const key = rng.pick(['pre_tokenizer', 'normalizer', 'decoder']);
          const list = key === 'pre_tokenizer' ? 'pretokenizers' : key === 'normalizer' ? 'normalizers' : 'decoders';
          const d = rng.pick([100, 5000, 50_000]);
          j[key] = new RawJson(`{"type":"Sequence","${list}":[`.repeat(d) + ']}'.repeat(d));
          return `${key} nested ${d} deep`;
        },
      ],
      [
        other ? 1 : 0,
        () => {
          const key = rng.pick(['model', 'pre_tokenizer', 'normalizer', 'decoder', 'post_processor', 'added_tokens']);
          j[key] = cloneJson((other as Json)[key]);
          return `${key} taken from another tokenizer`;
        },
      ],
      [
        2,
        () => {
          const m = mutateJson(rng, j, { other, maxOps: 1 });
          value = m.value;
          return m.ops.join('; ');
        },
      ],
    ])();
    ops.push(op);
  }
  return { value, ops };
}

// ---------------------------------------------------------------------------------------------
// tokenizer_config.json

const TOKEN_FIELDS = ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token'];

/** tokenizer_config.json with its token fields, flags and added_tokens_decoder changed. */
export function mutateTokenizerConfig(rng: Rng, config: Json, vocabPieces: readonly string[]): Mutated<unknown> {
  let value: unknown = cloneJson(config);
  const ops: string[] = [];
  for (let k = rng.range(1, 3); k > 0; k--) {
    if (!isObject(value)) break;
    const c = value;
    const op = rng.weighted<() => string>([
      [
        4,
        () => {
          const key = rng.pick(TOKEN_FIELDS);
          c[key] = rng.pick<unknown>([
            rng.pick(vocabPieces.length > 0 ? vocabPieces : ['a']),
            '<nope>',
            '',
            null,
            3,
            [],
            ['<s>'],
            { content: '<s>' },
            { content: 3 },
            { __type: 'AddedToken', content: '</s>', special: true },
            { content: hugeString(rng) },
            rng.pick(ODD_STRINGS),
            deepNesting(rng),
          ]);
          return `${key} changed`;
        },
      ],
      [
        2,
        () => {
          const key = rng.pick([
            'add_bos_token',
            'add_eos_token',
            'add_prefix_space',
            'legacy',
            'clean_up_tokenization_spaces',
            'do_lower_case',
            'split_special_tokens',
          ]);
          c[key] = rng.pick<unknown>([true, false, 'true', 1, 0, null, []]);
          return `${key} = ${String(c[key])}`;
        },
      ],
      [
        2,
        () => {
          c['additional_special_tokens'] = rng.pick<unknown>([
            [],
            ['<s>', '<nope>'],
            [{ content: '</s>' }, 3, null],
            'x',
            [hugeString(rng)],
            Array.from({ length: 10_000 }, (_, i) => `<x${i}>`),
          ]);
          return 'additional_special_tokens changed';
        },
      ],
      [
        3,
        () => {
          const entries = rng.pick<[string, unknown][]>([
            [
              ['0', { content: '<unk>', special: true }],
              ['1', { content: '<s>', special: true }],
            ],
            [['9999', { content: '<new>', special: true }]],
            [['-1', { content: 'neg' }]],
            [['x', { content: 'nan' }]],
            [['1e3', { content: 'exp' }]],
            [['4294967296', { content: 'big', special: true }]],
            [['5', { content: 3 }]],
            [['5', null]],
            [['5', { content: '', special: true }]],
            [['7', { content: rng.pick(vocabPieces.length > 0 ? vocabPieces : ['a']), special: true }]],
          ]);
          c['added_tokens_decoder'] = rng.chance(0.2) ? rng.pick<unknown>([[], 'x', null]) : Object.fromEntries(entries);
          return 'added_tokens_decoder changed';
        },
      ],
      [1, () => ((c['model_max_length'] = interestingNumber(rng)), 'model_max_length changed')],
      [
        1,
        () => (
          (c['tokenizer_class'] = rng.pick<unknown>(['LlamaTokenizerFast', 'GPT2TokenizerFast', 'BertTokenizer', 'Bogus', '', 3, null])),
          'tokenizer_class changed'
        ),
      ],
      [
        1,
        () => (
          (c['chat_template'] = rng.pick<unknown>(['{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}', '{% if %}', hugeString(rng), 3])),
          'chat_template changed'
        ),
      ],
      [
        2,
        () => {
          const m = mutateJson(rng, c, { maxOps: 1 });
          value = m.value;
          return m.ops.join('; ');
        },
      ],
    ])();
    ops.push(op);
  }
  return { value, ops };
}

// ---------------------------------------------------------------------------------------------
// llama2.c .bin and tokenizer.bin

export const LLAMA2C_FIELDS: readonly IntField[] = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'].map((name, i) => ({
  offset: 4 * i,
  width: 4 as const,
  name,
}));

/** A llama2.c checkpoint with header fields, size or magic changed, or data bytes flipped. */
export function mutateLlama2cBin(rng: Rng, seed: Uint8Array, other?: Uint8Array): Mutated<Uint8Array<ArrayBuffer>> {
  return rng.weighted<() => Mutated<Uint8Array<ArrayBuffer>>>([
    [5, () => mutateBytes(rng, seed, { other, intFields: LLAMA2C_FIELDS, maxOps: 2 })],
    [
      2,
      () => {
        // Header fields changed together so the implied size may still match.
        const out = seed.slice();
        const view = new DataView(out.buffer);
        const f = LLAMA2C_FIELDS.map((x) => view.getInt32(x.offset, true));
        const [a, b] = [rng.int(7), rng.int(7)];
        const t = f[a]!;
        f[a] = f[b]!;
        f[b] = t;
        if (rng.chance(0.5)) f[5] = -f[5]!;
        f.forEach((v, i) => view.setInt32(4 * i, v, true));
        return { value: out, ops: [`header fields ${a} and ${b} swapped`] };
      },
    ],
    [
      1,
      () => {
        const magic = new Uint8Array(8);
        new DataView(magic.buffer).setUint32(0, 0x616b3432, true);
        new DataView(magic.buffer).setInt32(4, rng.pick([0, 1, 2, 3, -1]), true);
        const out = new Uint8Array(8 + seed.length);
        out.set(magic);
        out.set(seed, 8);
        return { value: out, ops: ['versioned-export magic prepended'] };
      },
    ],
    [
      2,
      () => {
        const out = seed.slice();
        const n = rng.range(1, 16);
        for (let k = 0; k < n; k++) out[28 + rng.int(Math.max(1, out.length - 28))] ^= 0xff;
        return { value: out, ops: [`${n} data bytes inverted`] };
      },
    ],
  ])();
}

/** Offsets of every field of a valid tokenizer.bin: max_token_length, then per token score and length. */
export function tokenizerBinFields(bytes: Uint8Array): { fields: IntField[]; pieces: { offset: number; length: number }[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: IntField[] = [{ offset: 0, width: 4, name: 'max_token_length' }];
  const pieces: { offset: number; length: number }[] = [];
  let off = 4;
  while (off + 8 <= bytes.length) {
    const len = view.getInt32(off + 4, true);
    fields.push({ offset: off, width: 4, name: `score ${pieces.length}`, kind: 'f32' }, { offset: off + 4, width: 4, name: `length ${pieces.length}` });
    pieces.push({ offset: off + 8, length: len });
    off += 8 + len;
  }
  return { fields, pieces };
}

function tokenizerBinRecord(score: number, piece: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + piece.length);
  const view = new DataView(out.buffer);
  view.setFloat32(0, score, true);
  view.setInt32(4, piece.length, true);
  out.set(piece, 8);
  return out;
}

/** tokenizer.bin with fields, pieces or the token list changed. */
export function mutateTokenizerBin(rng: Rng, seed: Uint8Array, other?: Uint8Array): Mutated<Uint8Array<ArrayBuffer>> {
  const { fields, pieces } = tokenizerBinFields(seed);
  const lengthFields = fields.filter((f) => f.name === 'max_token_length' || f.name.startsWith('length'));
  return rng.weighted<() => Mutated<Uint8Array<ArrayBuffer>>>([
    [3, () => mutateBytes(rng, seed, { other, maxOps: 2 })],
    [
      4,
      () => {
        // Mostly lengths: they decide every later offset.
        const pick = rng.chance(0.7) ? lengthFields : fields;
        const chosen = Array.from({ length: rng.range(1, 2) }, () => rng.pick(pick));
        return mutateBytes(rng, seed, { intFields: chosen, maxOps: 1 });
      },
    ],
    [
      2,
      () => {
        // A piece's bytes replaced in place (same length): invalid UTF-8 or a copy of another piece.
        const out = seed.slice();
        const p = rng.pick(pieces.filter((x) => x.length > 0));
        if (rng.chance(0.5)) {
          const bad = rng.pick(INVALID_UTF8);
          for (let i = 0; i < Math.min(bad.length, p.length); i++) out[p.offset + i] = bad[i]!;
          return { value: out, ops: [`piece at ${p.offset} made invalid UTF-8`] };
        }
        const same = pieces.filter((x) => x.length === p.length && x.offset !== p.offset);
        if (same.length === 0) return { value: out, ops: ['piece copy (no same-length piece)'] };
        const q = rng.pick(same);
        out.copyWithin(p.offset, q.offset, q.offset + q.length);
        return { value: out, ops: [`piece at ${p.offset} copied from ${q.offset}`] };
      },
    ],
    [
      1,
      () => {
        // Many long pieces (max_token_length raised): the conversion to merges must stay fast.
        const count = rng.pick([50, 500, 2000]);
        const len = rng.pick([64, 256, 1024]);
        const alphabet = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', '\u2581'];
        const records: Uint8Array[] = [seed];
        for (let k = 0; k < count; k++) {
          const chars: string[] = [];
          for (let bytes = 0; bytes < len - 3;) {
            const c = rng.pick(alphabet);
            chars.push(c);
            bytes += c === '\u2581' ? 3 : 1;
          }
          records.push(tokenizerBinRecord(-1000 - k, new TextEncoder().encode(chars.join(''))));
        }
        const total = records.reduce((a, r) => a + r.length, 0);
        const out = new Uint8Array(total);
        let o = 0;
        for (const r of records) {
          out.set(r, o);
          o += r.length;
        }
        new DataView(out.buffer).setUint32(0, 1024, true);
        return { value: out, ops: [`${count} pieces of ~${len} bytes appended`] };
      },
    ],
    [
      1,
      () => {
        // Only the first k tokens kept (fewer than the three specials, sometimes).
        const k = rng.pick([0, 1, 2, 3, rng.int(pieces.length)]);
        const end = k < pieces.length ? pieces[k]!.offset - 8 : seed.length;
        return { value: seed.slice(0, end), ops: [`first ${k} tokens kept`] };
      },
    ],
  ])();
}
