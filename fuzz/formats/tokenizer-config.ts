// Mutators for tokenizer_config.json: its token fields, flags, added_tokens_decoder and a few other
// keys (model_max_length, tokenizer_class, chat_template). They only build inputs; the
// tokenizer_config suite runs the loader. Not tokenizer.json (tokenizer-json.ts).

import type { Mutated } from '../bytes';
import { cloneJson, deepNesting, hugeString, interestingNumber, isObject, mutateJson, ODD_STRINGS, type Json } from '../json';
import type { Rng } from '../rng';

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
