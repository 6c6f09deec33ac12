// Checks the demo models' tokenizer.json files with @huggingface/tokenizers against the ids that
// scripts/demo/tokenizer.py (a separate Python implementation) saved in each reference.json.
// It does not test the app's own tokenizer wrapper, only the files we ship.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';

const MODELS_DIR = join(import.meta.dirname, '..', '..', 'public', 'models');

interface ProbeSpan {
  start: number;
  end: number;
}

interface Probe {
  id: string;
  kind: string;
  example: boolean;
  prompt: string;
  answer: string;
  sources: ProbeSpan[];
  distractors: string[];
}

interface Reference {
  tokenizer_cases: { text: string; ids: number[] }[];
}

function readJson<T>(...path: string[]): T {
  return JSON.parse(readFileSync(join(MODELS_DIR, ...path), 'utf8')) as T;
}

function load(model: string): Tokenizer {
  return new Tokenizer(readJson<object>(model, 'tokenizer.json'), readJson<object>(model, 'tokenizer_config.json'));
}

const probes = readJson<{ probes: Probe[] }>('probes.json').probes;

describe.each([
  { model: 'demo-llama', bos: 1 },
  { model: 'demo-gpt2', bos: null },
])('$model tokenizer', ({ model, bos }) => {
  const tokenizer = load(model);
  const reference = readJson<Reference>(model, 'reference.json');

  it('encodes every saved text to the Python ids', () => {
    expect(reference.tokenizer_cases.length).toBeGreaterThan(probes.length);
    const mismatches = reference.tokenizer_cases.filter((c) => JSON.stringify(tokenizer.encode(c.text).ids) !== JSON.stringify(c.ids));
    expect(mismatches.map((c) => c.text)).toEqual([]);
  });

  it('starts with BOS only where the model expects one', () => {
    const ids = tokenizer.encode('Tom has a red kite.').ids;
    if (bos === null) expect(ids[0]).not.toBe(tokenizer.token_to_id('<|endoftext|>'));
    else expect(ids[0]).toBe(bos);
  });

  it('holds every corpus word as a single token', () => {
    // One token per word, "'s" and punctuation mark, counted independently of any tokenizer.
    const prompt = "Tom has a red kite. Mia got a blue cup. Tom's kite is";
    const words = prompt.match(/[A-Za-z]+|'s|[^\sA-Za-z]/g) ?? [];
    const ids = tokenizer.encode(prompt).ids;
    expect(ids.length).toBe(words.length + (bos === null ? 0 : 1));
  });

  it('gives each probe answer as exactly one next token', () => {
    for (const p of probes) {
      const before = tokenizer.encode(p.prompt).ids;
      const after = tokenizer.encode(p.prompt + p.answer).ids;
      expect(after.slice(0, before.length), p.id).toEqual(before);
      expect(after.length, p.id).toBe(before.length + 1);
    }
  });

  it('decodes probe prompts back to their text', () => {
    for (const p of probes.slice(0, 40)) {
      expect(tokenizer.decode(tokenizer.encode(p.prompt).ids, { skip_special_tokens: true })).toBe(p.prompt);
    }
  });
});

describe('probes.json', () => {
  it('points each source span at the word that carries the answer', () => {
    const kinds = new Set(probes.map((p) => p.kind));
    expect([...kinds].sort()).toEqual(['agreement', 'binding', 'induction']);
    for (const p of probes) {
      expect(p.sources.length, p.id).toBeGreaterThan(0);
      for (const s of p.sources) {
        const word = p.prompt.slice(s.start, s.end);
        if (p.kind === 'agreement') {
          // The subject's number decides the pronoun: plural nouns end in "s".
          expect(word.endsWith('s'), p.id).toBe(p.answer === ' they');
        } else {
          expect(word, p.id).toBe(p.answer.trim());
        }
      }
      expect(p.distractors, p.id).not.toContain(p.answer);
      if (p.kind !== 'agreement') {
        for (const d of p.distractors) expect(p.prompt, p.id).toMatch(new RegExp(`\\b${d.trim()}\\b`));
      }
    }
  });

  it('marks a few example prompts of every kind', () => {
    for (const kind of ['binding', 'induction', 'agreement']) {
      expect(probes.filter((p) => p.example && p.kind === kind).length).toBeGreaterThanOrEqual(1);
    }
  });
});
