// The reference library's outputs for small random models of each family (fixtures/families, made
// by scripts/reference/make_family_fixtures.py with the official modelling code): where they are,
// their files as a loader gets them, and their reference.json, for the tests that compare both
// engines with them.

import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ModelFile } from '../files';
import { filesFromPath } from '../../node/files';

export const FAMILY_FIXTURES = resolve(process.cwd(), 'fixtures/families');

export interface FixturePrompt {
  input_ids: number[];
  logits: number[][]; // [T][V] as the model reports them (after Gemma 2's final cap)
  logits_pre_cap?: number[][]; // [T][V] before the final cap
  attentions: number[][][][]; // [L][H][T][T]
  embedding_output?: number[][]; // [T][D]
  hidden_states?: number[][][]; // [L+1][T][D]
}

export interface FixtureReference {
  case: string;
  model_type: string;
  dtype: string;
  features: string[];
  embed_scale?: number;
  prompts: FixturePrompt[];
}

/** Every fixture case (folder names such as "gemma2-BF16"). */
export function fixtureCases(): string[] {
  return readdirSync(FAMILY_FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export function fixtureReference(name: string): FixtureReference {
  return JSON.parse(readFileSync(resolve(FAMILY_FIXTURES, name, 'reference.json'), 'utf8')) as FixtureReference;
}

/** The checkpoint files of a case as a user would drop them (config.json and model.safetensors). */
export async function fixtureFiles(name: string): Promise<ModelFile[]> {
  const files = await filesFromPath(resolve(FAMILY_FIXTURES, name));
  return files.filter((f) => /(^|\/)(config\.json|model\.safetensors)$/.test(f.path));
}

/** The case's config.json as the library's save_pretrained wrote it (the newer layout). */
export function newerConfig(name: string): unknown {
  return JSON.parse(readFileSync(resolve(FAMILY_FIXTURES, name, 'config.json'), 'utf8'));
}

/** The case's config in the older layout that published checkpoints use. */
export function olderConfig(name: string): unknown {
  return JSON.parse(readFileSync(resolve(FAMILY_FIXTURES, name, 'config.v4.json'), 'utf8'));
}

/**
 * A BPE tokenizer.json of single characters (no merges) with at most `V` ids, so that a fixture
 * model can be loaded by the CLI and the app: ids 0..n-1 are the characters of `alphabet`.
 */
export function characterTokenizer(V: number, alphabet = ' abcdefghijklmnopqrstuvwxyz.,'): Record<string, unknown> {
  const chars = [...alphabet].slice(0, V - 1);
  const vocab: Record<string, number> = { '<unk>': 0 };
  chars.forEach((c, i) => (vocab[c] = i + 1));
  return {
    version: '1.0',
    added_tokens: [{ id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: [],
    },
  };
}
