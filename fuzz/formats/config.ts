// Mutators for config.json: known size keys nudged or broken, model families swapped, options
// retyped, on top of the generic JSON mutations. They only build inputs; the config suite runs the
// parser.

import { nearbyInts, type Mutated } from '../bytes';
import { cloneJson, interestingNumber, interestingValue, isObject, jsonText, mutateJson, nudge, RawJson, retype, type Json } from '../json';
import type { Rng } from '../rng';

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
