// Tests for loadTokenizer and the Tokenizer it returns: stories260K's tokenizer.json and its
// llama2.c tok512.bin against the golden encodings and each other (../shared), spans derived by
// hand from the vocabulary, a hand-written GPT-2-style byte-level tokenizer, normaliser fallback
// and the config's BOS rules. Malformed inputs are in tokenizer.errors.test.ts.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SHARED, skipWithoutFiles } from '../testing/requirements';
import type { ModelFile } from './files';
import { byteLevelJson } from './testing/byte-level-tokenizer';
import { loadTokenizer, tokenizerFromJson } from './tokenizer';
import type { TokenSpan, Tokenizer } from './tokenizer-types';

const file = (path: string, data: string | Uint8Array): ModelFile => ({
  path,
  blob: new Blob([typeof data === 'string' ? data : new Uint8Array(data)]),
});

/** Spans must be monotone, inside the prompt, and spell the prompt over the non-template tokens. */
function expectSpansCoverPrompt(prompt: string, spans: TokenSpan[], templateIds: Set<number>): void {
  let at = 0;
  let spelled = '';
  for (const s of spans) {
    expect(s.start).toBeGreaterThanOrEqual(0);
    expect(s.end).toBeLessThanOrEqual(prompt.length);
    expect(s.end).toBeGreaterThanOrEqual(s.start);
    expect(s.start).toBeGreaterThanOrEqual(at);
    at = s.end;
    if (templateIds.has(s.id) && s.start === s.end) continue;
    spelled += prompt.slice(s.start, s.end);
  }
  expect(spelled).toBe(prompt);
}

// ---------------------------------------------------------------------------------------------
// stories260K (../shared)

const MODEL = SHARED + 'models/stories260K/';

interface Golden {
  encodings: Record<string, number[]>;
  greedy_from_bos: { text: string };
}

/** Deterministic strings: golden-text words, punctuation, digits, non-ASCII, odd whitespace. */
function testStrings(words: string[], count: number): string[] {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const extras = ['café', '日本', '😀', '👍🏽', 'naïve', 'Ünïcödé', '42', '3.14', '2024', '!?', '...', '"quoted"', "it's", '—', '\t', 'x\u200ay'];
  const seps = [' ', ' ', ' ', '  ', '', '\n', ', ', '. ', '\n\n'];
  const fixed = ['', ' ', '  ', '\n', 'a', ' leading', 'trailing ', 'double  space', 'Hello world!', '日本', 'café', '😀', 'line\nbreak'];
  const out = [...fixed];
  while (out.length < count) {
    const n = 1 + Math.floor(rand() * 8);
    let s = rand() < 0.15 ? pick([' ', '  ', '\n']) : '';
    for (let k = 0; k < n; k++) s += (k ? pick(seps) : '') + (rand() < 0.25 ? pick(extras) : pick(words));
    if (rand() < 0.15) s += pick([' ', '  ', '\n', '!']);
    out.push(s);
  }
  return out;
}

describe.skipIf(skipWithoutFiles(MODEL + 'tokenizer.json', MODEL + 'llama2c/tok512.bin', SHARED + 'golden/stories260K.json'))(
  'stories260K tokenizers (../shared)',
  () => {
    let fromJson: Tokenizer;
    let fromBin: Tokenizer;
    let golden: Golden;
    let vocab: Record<string, number>;

    beforeAll(async () => {
      const read = (p: string) => new Uint8Array(readFileSync(p));
      // As dropped: with a leading folder name and the weights among the files.
      fromJson = await loadTokenizer([
        file('stories260K/config.json', read(MODEL + 'config.json')),
        file('stories260K/tokenizer.json', read(MODEL + 'tokenizer.json')),
        file('stories260K/tokenizer_config.json', read(MODEL + 'tokenizer_config.json')),
      ]);
      fromBin = await loadTokenizer([
        file('llama2c/stories260K.bin', read(MODEL + 'llama2c/stories260K.bin')),
        file('llama2c/tok512.bin', read(MODEL + 'llama2c/tok512.bin')),
      ]);
      golden = JSON.parse(readFileSync(SHARED + 'golden/stories260K.json', 'utf8')) as Golden;
      vocab = (JSON.parse(readFileSync(MODEL + 'tokenizer.json', 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
    });

    it('encodes the golden prompts exactly, from both files', () => {
      expect(Object.keys(golden.encodings).length).toBeGreaterThan(0);
      for (const [prompt, ids] of Object.entries(golden.encodings)) {
        expect(fromJson.encode(prompt).map((t) => t.id)).toEqual(ids);
        expect(fromBin.encode(prompt).map((t) => t.id)).toEqual(ids);
      }
    });

    it('agrees between tokenizer.json and tok512.bin, with covering spans, on many strings', () => {
      const words = golden.greedy_from_bos.text.split(/\s+/).filter(Boolean);
      const strings = testStrings(words, 300);
      for (const s of strings) {
        const a = fromJson.encode(s);
        const b = fromBin.encode(s);
        expect(
          b.map((t) => t.id),
          JSON.stringify(s),
        ).toEqual(a.map((t) => t.id));
        expect(b).toEqual(a);
        expect(a[0]).toMatchObject({ id: 1, start: 0, end: 0 });
        expectSpansCoverPrompt(s, a, new Set([1]));
        expect(fromJson.decode(a.map((t) => t.id))).toBe(s);
      }
    });

    it('spans a lone surrogate as the U+FFFD it is encoded as', () => {
      // TextEncoder writes U+FFFD (EF BF BD): three byte-fallback tokens, the last one holding it.
      const spans = fromJson.encode('a\ud800b');
      expect(spans.map((t) => t.id)).toEqual([1, vocab['▁a'], 0xef + 3, 0xbf + 3, 0xbd + 3, vocab['b']]);
      expect(spans.map((t) => [t.start, t.end])).toEqual([
        [0, 0],
        [0, 1],
        [1, 1],
        [1, 1],
        [1, 2],
        [2, 3],
      ]);
    });

    it('gives "Hello world!" the spans its vocabulary implies', () => {
      // tokenizer.json's vocab: ▁He 346, ll 306, o 414, ▁w 263, or 304, ld 341, ! 443.
      expect([vocab['▁He'], vocab['ll'], vocab['o'], vocab['▁w'], vocab['or'], vocab['ld'], vocab['!']]).toEqual([346, 306, 414, 263, 304, 341, 443]);
      // The prepended ▁ of "▁He" is not in the prompt; the one of "▁w" is the real space.
      expect(fromJson.encode('Hello world!')).toEqual([
        { id: 1, text: '<s>', start: 0, end: 0 },
        { id: 346, text: ' He', start: 0, end: 2 },
        { id: 306, text: 'll', start: 2, end: 4 },
        { id: 414, text: 'o', start: 4, end: 5 },
        { id: 263, text: ' w', start: 5, end: 7 },
        { id: 304, text: 'or', start: 7, end: 9 },
        { id: 341, text: 'ld', start: 9, end: 11 },
        { id: 443, text: '!', start: 11, end: 12 },
      ]);
    });

    it('spans byte-fallback characters and a leading space as derived by hand', () => {
      // ▁ is 410; bytes are <0xNN> = NN + 3. 日 = E6 97 A5, 😀 = F0 9F 98 80.
      expect(vocab['▁']).toBe(410);
      expect(vocab['<0xE6>']).toBe(0xe6 + 3);
      expect(fromJson.encode(' 日😀').map(({ id, start, end, text }) => [id, start, end, text])).toEqual([
        [1, 0, 0, '<s>'],
        [410, 0, 0, ' '], // the prepended ▁ (the real space is the next ▁)
        [410, 0, 1, ' '],
        [0xe6 + 3, 1, 1, '<0xE6>'],
        [0x97 + 3, 1, 1, '<0x97>'],
        [0xa5 + 3, 1, 2, '日'],
        [0xf0 + 3, 2, 2, '<0xF0>'],
        [0x9f + 3, 2, 2, '<0x9F>'],
        [0x98 + 3, 2, 2, '<0x98>'],
        [0x80 + 3, 2, 4, '😀'],
      ]);
    });

    it('reports BOS, EOS, specials, vocabulary and display text', () => {
      expect(fromJson.vocabSize).toBe(512);
      expect(fromBin.vocabSize).toBe(512);
      expect(fromJson.bosId).toBe(1);
      expect(fromBin.bosId).toBe(1);
      expect(fromJson.eosIds).toEqual([2]);
      expect(fromBin.eosIds).toEqual([2, 1]); // llama2.c stops at BOS too
      for (const t of [fromJson, fromBin]) {
        expect([0, 1, 2, 3, 100].map((id) => t.isSpecial(id))).toEqual([true, true, true, false, false]);
        expect(t.tokenText(1)).toBe('<s>');
        expect(t.tokenText(vocab['▁Once']!)).toBe(' Once');
        expect(t.tokenText(0x0a + 3)).toBe('\n');
        expect(t.tokenText(0xe6 + 3)).toBe('<0xE6>');
        expect(t.decode([1, 346, 306, 414, 2])).toBe('Hello');
        expect(t.decode([])).toBe('');
        expect(t.encode('')).toEqual([{ id: 1, text: '<s>', start: 0, end: 0 }]);
      }
    });

    it('prefers tokenizer.json when a folder holds both formats', async () => {
      const t = await loadTokenizer([
        file('m/tok512.bin', new Uint8Array(readFileSync(MODEL + 'llama2c/tok512.bin'))),
        file('m/tokenizer.json', readFileSync(MODEL + 'tokenizer.json', 'utf8')),
      ]);
      expect(t.eosIds).toEqual([2]);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// A GPT-2-style byte-level tokenizer written by hand (testing/byte-level-tokenizer.ts)

describe('byte-level BPE (GPT-2 style, hand-written)', () => {
  const prompt = 'Hi café 日本😀!';

  it('encodes and spans accents, CJK and emoji', () => {
    const tok = tokenizerFromJson(byteLevelJson(), {}, 'gpt/tokenizer.json');
    // Pre-tokens "Hi" | " café" | " 日本" | "😀!". " café" = Ġ c a f Ã ©: Ġc, af, Ġcaf, Ã©.
    // " 日本" = Ġ æ Ĺ ¥ æ ľ ¬: only 日 merges. "😀!" = ð Ł ĺ Ģ !: ðŁĺ then Ģ (0x80) and !.
    expect(tok.encode(prompt).map(({ id, start, end, text }) => [id, start, end, text])).toEqual([
      [265, 0, 2, 'Hi'],
      [259, 2, 6, ' caf'],
      [260, 6, 7, 'é'],
      [0x20, 7, 8, ' '],
      [262, 8, 9, '日'],
      [0xe6, 9, 9, '<0xE6>'],
      [0x9c, 9, 9, '<0x9C>'],
      [0xac, 9, 10, '本'],
      [264, 10, 10, '<0xF0><0x9F><0x98>'],
      [0x80, 10, 12, '😀'], // two UTF-16 units
      [0x21, 12, 13, '!'],
    ]);
    expect(tok.decode(tok.encode(prompt).map((t) => t.id))).toBe(prompt);
    expect(tok.vocabSize).toBe(266);
    expect(tok.bosId).toBeNull();
    expect(tok.eosIds).toEqual([256]); // the conventional name, as no config names one
    expect(tok.tokenText(0x20)).toBe(' ');
    expect(tok.tokenText(0x0a)).toBe('\n');
    expect(tok.tokenText(262)).toBe('日');
    expect(tok.tokenText(264)).toBe('<0xF0><0x9F><0x98>');
    expect(tok.tokenText(9999)).toBe('<id 9999>');
  });

  it('spans a special token typed in the prompt and skips it when decoding', () => {
    const tok = tokenizerFromJson(byteLevelJson(), {}, 'gpt/tokenizer.json');
    const spans = tok.encode('Hi<|endoftext|>Hi');
    expect(spans.map(({ id, start, end }) => [id, start, end])).toEqual([
      [265, 0, 2],
      [256, 2, 15],
      [265, 15, 17],
    ]);
    expect(tok.isSpecial(256)).toBe(true);
    expect(tok.isSpecial(265)).toBe(false);
    expect(tok.decode(spans.map((s) => s.id))).toBe('HiHi');
  });

  it('adds BOS only where the config asks', () => {
    const config = { bos_token: '<|endoftext|>', eos_token: { content: '<|endoftext|>', special: true } };
    const plain = tokenizerFromJson(byteLevelJson(), config, 'gpt/tokenizer.json');
    expect(plain.bosId).toBe(256);
    expect(plain.eosIds).toEqual([256]);
    expect(plain.encode('Hi').map((t) => t.id)).toEqual([265]);
    const withBos = tokenizerFromJson(byteLevelJson(), { ...config, add_bos_token: true }, 'gpt/tokenizer.json');
    expect(withBos.encode('Hi')).toEqual([
      { id: 256, text: '<|endoftext|>', start: 0, end: 0 },
      { id: 265, text: 'Hi', start: 0, end: 2 },
    ]);
    const withEos = tokenizerFromJson(byteLevelJson(), { ...config, add_eos_token: true }, 'gpt/tokenizer.json');
    expect(withEos.encode('Hi').map(({ id, start, end }) => [id, start, end])).toEqual([
      [265, 0, 2],
      [256, 2, 2],
    ]);
  });

  it('falls back to an alignment when a normaliser lowercases', () => {
    const tok = tokenizerFromJson(byteLevelJson({ type: 'Lowercase' }), {}, 'gpt/tokenizer.json');
    // "HI Café" -> "hi café": h, i (no merge for lowercase), Ġcaf, Ã©.
    expect(tok.encode('HI Café').map(({ id, start, end }) => [id, start, end])).toEqual([
      [0x68, 0, 1],
      [0x69, 1, 2],
      [259, 2, 6],
      [260, 6, 7],
    ]);
  });

  it('falls back to an alignment when a normaliser composes (NFC)', () => {
    const tok = tokenizerFromJson(byteLevelJson({ type: 'NFC' }), {}, 'gpt/tokenizer.json');
    const prompt = 'cafe\u0301!'; // decomposed é: 6 UTF-16 units
    // NFC gives "café!": pre-tokens "café" | "!"; c, af, Ã© (no Ġ so no Ġcaf), !.
    const spans = tok.encode(prompt);
    expect(spans.map(({ id, start, end }) => [id, start, end])).toEqual([
      [0x63, 0, 1],
      [258, 1, 3],
      [260, 3, 5],
      [0x21, 5, 6],
    ]);
    expectSpansCoverPrompt(prompt, spans, new Set());
  });
});
