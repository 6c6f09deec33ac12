// A tiny random Llama whose vocabulary is hostile text, written to a temporary folder by the test
// that uses it (nothing of it is shipped): markup, bidirectional overrides and isolates, the C0
// controls XML forbids, a right-to-left word and a 300-character token, all as added tokens so
// that a prompt holds them as they are; a 497-character model name with markup and controls.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomModel } from '../src/model/testing/random-model';
import { toHfFiles } from '../src/model/testing/serialize';
import { writeModelFolder } from './model-folder';

export const HOSTILE_TOKENS = {
  markup: '<img src=x onerror="window.__hit=1">',
  script: '</svg><script>window.__hit=2</script>',
  override: '\u202egpj.exe',
  isolate: '\u2067abc',
  controls: '\f\v\u001b\u0007',
  rtl: 'שלום',
  long: 'supercalifragilistic'.repeat(15),
} as const;

/** 497 characters: markup, a right-to-left override, BEL and ESC, then filler without spaces. */
export const HOSTILE_NAME = (() => {
  const head = '<b>hostile</b>\u202eledom\u0007\u001b-';
  return head + 'n'.repeat(497 - head.length);
})();

/** A prompt with every hostile token between plain letters. */
export const HOSTILE_PROMPT = `a${HOSTILE_TOKENS.markup}b${HOSTILE_TOKENS.override}c${HOSTILE_TOKENS.controls}d${HOSTILE_TOKENS.long}e${HOSTILE_TOKENS.rtl}f${HOSTILE_TOKENS.isolate}g${HOSTILE_TOKENS.script}h`;

const LETTERS = 'abcdefgh';

/**
 * Writes config.json, model.safetensors, tokenizer.json and tokenizer_config.json; returns their
 * paths. `specialScript`: the script token is a special token of the tokenizer (a chat marker
 * that has a span of its own in the prompt).
 */
export async function writeHostileModel(opts: { specialScript?: boolean } = {}): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'depass-hostile-'));
  const hostile = Object.values(HOSTILE_TOKENS);
  const vocab: Record<string, number> = {};
  [...LETTERS].forEach((c, i) => (vocab[c] = i));
  const added = hostile.map((content, k) => ({
    id: LETTERS.length + k,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: opts.specialScript === true && content === HOSTILE_TOKENS.script,
  }));
  const V = LETTERS.length + hostile.length;
  const tokenizer = {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    model: { type: 'BPE', unk_token: null, vocab, merges: [] },
  };
  const { description, weights } = randomModel({ family: 'llama', vocab_size: V, hidden_size: 16, num_attention_heads: 2, num_hidden_layers: 2, seed: 7 });
  const files = toHfFiles(description, weights, { configOverrides: { _name_or_path: HOSTILE_NAME } });
  return writeModelFolder(dir, files, tokenizer);
}
