// Mutators for tokenizer.json: the model (type, vocabulary, merges), the pipeline (normalizer,
// pre-tokenizer, decoder, post-processor) and the added tokens. They only build inputs; the
// tokenizer.json suite runs the loader. Not tokenizer_config.json (tokenizer-config.ts).

import type { Mutated } from '../bytes';
import { cloneJson, define, hugeString, isObject, mutateJson, ODD_STRINGS, RawJson, type Json } from '../json';
import type { Rng } from '../rng';

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
