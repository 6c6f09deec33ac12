// A tiny random Llama with a 2,048-token context and a vocabulary of 26 letters and a space (one
// character, one token), written to a temporary folder by the long-prompt test (nothing of it is
// shipped), and a 1,000-token prompt for it: a real model's context length on a model small
// enough for a software GPU.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomModel } from '../src/model/testing/random-model';
import { toHfFiles } from '../src/model/testing/serialize';
import { writeModelFolder } from './model-folder';

const CHARS = 'abcdefghijklmnopqrstuvwxyz ';

/** `n` characters, each one token: words of three to seven letters between spaces. */
export function longPrompt(n: number): string {
  let x = 12345;
  const next = (m: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x >> 16) % m;
  };
  let out = '';
  while (out.length < n) {
    const len = 3 + next(5);
    for (let i = 0; i < len; i++) out += CHARS[next(26)];
    out += ' ';
  }
  return out.slice(0, n - 1) + 'a';
}

/** Writes config.json, model.safetensors, tokenizer.json and tokenizer_config.json; returns their paths. */
export async function writeLongModel(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'depass-long-'));
  const vocab: Record<string, number> = {};
  [...CHARS].forEach((c, i) => (vocab[c] = i));
  const tokenizer = {
    version: '1.0',
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    model: { type: 'BPE', unk_token: null, vocab, merges: [] },
  };
  const { description, weights } = randomModel({
    family: 'llama',
    vocab_size: CHARS.length,
    hidden_size: 16,
    num_attention_heads: 2,
    num_hidden_layers: 2,
    max_position_embeddings: 2048,
    seed: 11,
  });
  const files = toHfFiles(description, weights, { configOverrides: { _name_or_path: 'long-context-test' } });
  return writeModelFolder(dir, files, tokenizer);
}
