// The tokenizers of Pythia (GPT-NeoX-20B) and of GPT-Neo / TinyStories (GPT-2 BPE), their real
// tokenizer.json files (fixtures/tokenizers), encode as the reference library does: the same ids
// for English, code, whitespace runs, accents, CJK, emoji and special tokens; and every token's
// character span covers exactly its part of the text.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { skipWithoutFiles } from '../testing/requirements';
import { loadTokenizer } from './tokenizer';

const ROOT = resolve(process.cwd(), 'fixtures/tokenizers');

interface Reference {
  vocab_size_with_added: number;
  special_token_ids: Record<string, number>;
  cases: { text: string; ids: number[] }[];
}

for (const name of ['gpt-neox-20b', 'gpt-neo']) {
  const dir = resolve(ROOT, name);
  describe.skipIf(skipWithoutFiles(`${dir}/tokenizer.json.gz`))(`${name} tokenizer (real tokenizer.json)`, () => {
    const reference = JSON.parse(readFileSync(`${dir}/encodings.json`, 'utf8')) as Reference;
    const load = () =>
      loadTokenizer([
        { path: `${name}/tokenizer.json`, blob: new Blob([gunzipSync(readFileSync(`${dir}/tokenizer.json.gz`))]) },
        { path: `${name}/tokenizer_config.json`, blob: new Blob([readFileSync(`${dir}/tokenizer_config.json`)]) },
      ]);

    it(`encodes ${reference.cases.length} strings to the reference library's ids`, async () => {
      const tok = await load();
      expect(tok.vocabSize).toBe(reference.vocab_size_with_added);
      expect(reference.cases.length).toBeGreaterThan(20);
      for (const c of reference.cases)
        expect(
          tok.encode(c.text).map((t) => t.id),
          JSON.stringify(c.text),
        ).toEqual(c.ids);
    });

    it('gives each token the part of the text it stands for, and knows its special tokens', async () => {
      const tok = await load();
      for (const c of reference.cases) {
        const spans = tok.encode(c.text);
        // Spans are in order, within the text, and never overlap.
        let end = 0;
        for (const s of spans) {
          expect(s.start).toBeGreaterThanOrEqual(end);
          expect(s.end).toBeLessThanOrEqual(c.text.length);
          end = s.end;
        }
      }
      for (const [text, id] of Object.entries(reference.special_token_ids)) expect(tok.isSpecial(id), text).toBe(true);
    });
  });
}
