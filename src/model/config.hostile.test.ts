// config.json values that once escaped describeModel as a RangeError (JSON.stringify of a
// 100000-deep list in the message) or as a megabyte message; found by the config.json fuzz suite.

import { describe, expect, it } from 'vitest';
import { describeModel } from './config';
import { ModelFormatError } from './errors';

const base = { model_type: 'llama', vocab_size: 32, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 24 };

function refusal(config: unknown): ModelFormatError {
  try {
    describeModel(config, 'tiny/config.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return e as ModelFormatError;
  }
  throw new Error('accepted');
}

describe('describeModel on hostile values', () => {
  it('refuses a 100000-deep list or object as a size with a short ModelFormatError', () => {
    const d = 100_000;
    for (const text of ['['.repeat(d) + ']'.repeat(d), '{"a":'.repeat(d) + '1' + '}'.repeat(d)]) {
      const config = JSON.parse(
        `{"model_type":"llama","vocab_size":${text},"hidden_size":16,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":24}`,
      );
      const e = refusal(config);
      expect(e.message).toMatch(/^tiny\/config\.json: 'vocab_size' must be an integer, got [[{]/);
      expect(e.message.length).toBeLessThan(200);
    }
  });

  it('quotes at most 80 characters of a huge value', () => {
    for (const key of ['num_hidden_layers', 'rms_norm_eps', 'tie_word_embeddings', 'bos_token_id', 'hidden_act']) {
      const e = refusal({ ...base, [key]: key === 'hidden_act' ? 7 : 'x'.repeat(1 << 20) });
      expect(e.message).toContain(`'${key}'`);
      expect(e.message.length).toBeLessThan(200);
    }
    const e = refusal({ ...base, eos_token_id: [1, 'y'.repeat(1 << 20)] });
    expect(e.message).toMatch(/'eos_token_id' must hold token ids, got "y{76}\.\.\.$/);
  });
});
