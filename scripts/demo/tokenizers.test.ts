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
  lexical: boolean;
  example: boolean;
  prompt: string;
  answer: string;
  sources: ProbeSpan[];
  distractors: string[];
  counterfactual: { prompt: string; answer: string };
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

// Facts of the corpus's small world, restated here so that probes.json is checked against
// something the generator did not write.
const PLURAL_NOUNS = /^(dogs|cats|birds|ducks|frogs|horses|bees|goats)$/;
const COATS: Record<string, string> = {
  dog: 'fur',
  cat: 'fur',
  rabbit: 'fur',
  mouse: 'fur',
  duck: 'feathers',
  owl: 'feathers',
  hen: 'feathers',
  parrot: 'feathers',
  fish: 'scales',
  snake: 'scales',
  lizard: 'scales',
};
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const KINDS = ['agreement', 'binding', 'induction', 'long-agreement', 'lookup', 'weekday'];

/** The answer that the word at a source span decides, for each kind (weekday: with the prompt's
 *  "after" or "before"). */
function answerFrom(kind: string, word: string, prompt: string): string {
  if (kind === 'binding' || kind === 'induction') return word;
  if (kind === 'agreement' || kind === 'long-agreement') return PLURAL_NOUNS.test(word) ? 'they' : 'it';
  if (kind === 'lookup') return COATS[word];
  if (kind === 'weekday') return DAYS[(DAYS.indexOf(word) + (/ after /.test(prompt) ? 1 : 6)) % 7];
  throw new Error(`unknown probe kind ${kind}`);
}

const words = (text: string) => text.match(/[A-Za-z]+/g) ?? [];

describe('probes.json', () => {
  const file = readJson<{
    kinds: Record<string, { lexical: boolean }>;
    validation: Record<string, { generated: number; dropped: Record<string, number>; kept: number }>;
  }>('probes.json');

  it('points each source span at the word the answer comes from', () => {
    expect([...new Set(probes.map((p) => p.kind))].sort()).toEqual(KINDS);
    for (const p of probes) {
      expect(p.sources.length, p.id).toBeGreaterThan(0);
      for (const s of p.sources) expect(answerFrom(p.kind, p.prompt.slice(s.start, s.end), p.prompt), p.id).toBe(p.answer.trim());
      expect(p.distractors, p.id).not.toContain(p.answer);
      if (p.lexical) {
        for (const d of p.distractors) expect(p.prompt, p.id).toMatch(new RegExp(`\\b${d.trim()}\\b`));
      }
    }
  });

  it('marks a kind lexical exactly when its answer is the source word, and keeps other answers out of the prompt', () => {
    expect(Object.keys(file.kinds).sort()).toEqual(KINDS);
    for (const p of probes) {
      expect(p.lexical, p.id).toBe(file.kinds[p.kind].lexical);
      const sourceWords = p.sources.map((s) => p.prompt.slice(s.start, s.end));
      expect(
        sourceWords.every((w) => w === p.answer.trim()),
        p.id,
      ).toBe(p.lexical);
      if (!p.lexical) expect(words(p.prompt), p.id).not.toContain(p.answer.trim());
    }
    // The non-lexical kinds the evaluation leads with.
    expect(KINDS.filter((k) => !file.kinds[k].lexical).sort()).toEqual(['agreement', 'long-agreement', 'lookup', 'weekday']);
  });

  it('gives each probe a counterfactual that changes only the source word, and the answer with it', () => {
    for (const p of probes) {
      const s = p.sources[0];
      const cf = p.counterfactual;
      expect(cf.prompt.slice(0, s.start), p.id).toBe(p.prompt.slice(0, s.start));
      const tail = p.prompt.slice(s.end);
      expect(cf.prompt.endsWith(tail), p.id).toBe(true);
      const replaced = cf.prompt.slice(s.start, cf.prompt.length - tail.length);
      expect(replaced, p.id).toMatch(/^[A-Za-z]+$/);
      expect(replaced, p.id).not.toBe(p.prompt.slice(s.start, s.end));
      expect(cf.answer.trim(), p.id).toBe(answerFrom(p.kind, replaced, cf.prompt));
      expect(cf.answer, p.id).not.toBe(p.answer);
    }
  });

  it('records, per kind, the probes generated, dropped by intervention on each model, and kept', () => {
    expect(Object.keys(file.validation).sort()).toEqual(KINDS);
    for (const [kind, v] of Object.entries(file.validation)) {
      expect(probes.filter((p) => p.kind === kind).length, kind).toBe(v.kept);
      expect(Object.keys(v.dropped).sort(), kind).toEqual(['demo-gpt2', 'demo-llama']);
      const worst = Math.max(...Object.values(v.dropped));
      const total = Object.values(v.dropped).reduce((a, b) => a + b, 0);
      // Kept = generated less the union of both models' drops.
      expect(v.generated - v.kept, kind).toBeGreaterThanOrEqual(worst);
      expect(v.generated - v.kept, kind).toBeLessThanOrEqual(total);
    }
  });

  it('marks a few example prompts of every kind', () => {
    for (const kind of KINDS) {
      expect(probes.filter((p) => p.example && p.kind === kind).length).toBeGreaterThanOrEqual(1);
    }
  });
});
