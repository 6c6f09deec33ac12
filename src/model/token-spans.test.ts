// Tests for token-spans.ts on hand-built byte streams: the GPT-2 byte table against characters
// every GPT-2 vocabulary shows (Ġ for space, Ċ for newline), UTF-8 character lengths, display
// text, and span alignment (exact, prepended space, normaliser fallback, split characters).

import { describe, expect, it } from 'vitest';
import { alignTokenBytes, BYTE_LEVEL_CHARS, byteLevelPieceBytes, displayBytes, sentencePieceBytes, spansForTokens, utf8, utf8CharLength } from './token-spans';

const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => utf8(s);

describe('byte-level table', () => {
  it('matches the characters GPT-2 vocabularies are written in', () => {
    // Known from GPT-2's vocab.json: "Ġthe" (space), "Ċ" (newline), "ĉ" (tab), "Ń" (0xAD, the
    // soft hyphen, the last unprintable byte), and printable bytes standing for themselves.
    expect(BYTE_LEVEL_CHARS[0x20]).toBe('Ġ');
    expect(BYTE_LEVEL_CHARS[0x0a]).toBe('Ċ');
    expect(BYTE_LEVEL_CHARS[0x09]).toBe('ĉ');
    expect(BYTE_LEVEL_CHARS[0x00]).toBe('Ā');
    expect(BYTE_LEVEL_CHARS[0xad]).toBe('Ń');
    expect(BYTE_LEVEL_CHARS[0x41]).toBe('A');
    expect(BYTE_LEVEL_CHARS[0xe9]).toBe('é');
    expect(new Set(BYTE_LEVEL_CHARS).size).toBe(256);
  });

  it('inverts pieces to bytes', () => {
    expect(byteLevelPieceBytes('Ġthe')).toEqual(ascii(' the'));
    // "æĹ¥" is how GPT-2 writes 日 (E6 97 A5); "ðŁĺĢ" is 😀 (F0 9F 98 80).
    expect(byteLevelPieceBytes('æĹ¥')).toEqual(bytes(0xe6, 0x97, 0xa5));
    expect(byteLevelPieceBytes('ðŁĺĢ')).toEqual(bytes(0xf0, 0x9f, 0x98, 0x80));
  });
});

describe('SentencePiece pieces', () => {
  it('reads ▁ as a space and <0xNN> as one byte', () => {
    expect(sentencePieceBytes('▁the')).toEqual(ascii(' the'));
    expect(sentencePieceBytes('<0x0A>')).toEqual(bytes(0x0a));
    expect(sentencePieceBytes('<0xE6>')).toEqual(bytes(0xe6));
    expect(sentencePieceBytes('▁▁')).toEqual(ascii('  '));
    expect(sentencePieceBytes('<0xE6>x')).toEqual(ascii('<0xE6>x'));
  });
});

describe('UTF-8 helpers', () => {
  it('measures well-formed characters and rejects the rest', () => {
    expect(utf8CharLength(ascii('a'), 0)).toBe(1);
    expect(utf8CharLength(bytes(0xc3, 0xa9), 0)).toBe(2);
    expect(utf8CharLength(bytes(0xe6, 0x97, 0xa5), 0)).toBe(3);
    expect(utf8CharLength(bytes(0xf0, 0x9f, 0x98, 0x80), 0)).toBe(4);
    expect(utf8CharLength(bytes(0xe6, 0x97), 0)).toBe(0); // cut short
    expect(utf8CharLength(bytes(0x97), 0)).toBe(0); // continuation byte
    expect(utf8CharLength(bytes(0xc0, 0x80), 0)).toBe(0); // overlong
    expect(utf8CharLength(bytes(0xed, 0xa0, 0x80), 0)).toBe(0); // surrogate
  });

  it('displays partial characters as <0xNN>', () => {
    expect(displayBytes(bytes(0xe6, 0x97, 0xa5))).toBe('日');
    expect(displayBytes(bytes(0xe6))).toBe('<0xE6>');
    expect(displayBytes(bytes(0x61, 0xf0, 0x9f))).toBe('a<0xF0><0x9F>');
    expect(displayBytes(bytes(0xf0, 0x9f, 0x98, 0x80))).toBe('😀');
  });
});

describe('alignTokenBytes', () => {
  it('is the identity when the tokens spell the prompt', () => {
    expect(Array.from(alignTokenBytes(ascii('Hello'), [ascii('He'), ascii('llo')]))).toEqual([0, 2, 5]);
  });

  it('drops a prepended space from the first token', () => {
    expect(Array.from(alignTokenBytes(ascii('Hi you'), [ascii(' Hi'), ascii(' you')]))).toEqual([0, 2, 6]);
    // Prompt " x": the prepended space is the first one, the real one belongs to " x".
    expect(Array.from(alignTokenBytes(ascii(' x'), [ascii(' '), ascii(' x')]))).toEqual([0, 0, 2]);
  });

  it('absorbs a lowercasing normaliser and stripped whitespace', () => {
    expect(Array.from(alignTokenBytes(ascii('Hello World'), [ascii('hello'), ascii(' world')]))).toEqual([0, 5, 11]);
    // Whitespace the tokenizer dropped goes to the token before it.
    expect(Array.from(alignTokenBytes(ascii('ab  <x>'), [ascii('ab'), ascii('<x>')]))).toEqual([0, 4, 7]);
  });

  it('gives a decomposed character to the token of its composed form', () => {
    // NFC turned "e" + U+0301 (65 CC 81) into "é" (C3 A9); all three prompt bytes belong to it.
    const tokens = [ascii('c'), ascii('af'), bytes(0xc3, 0xa9), ascii('!')];
    expect(Array.from(alignTokenBytes(ascii('cafe\u0301!'), tokens))).toEqual([0, 1, 3, 6, 7]);
  });

  it('stays monotone and covering whatever the streams are', () => {
    const cut = alignTokenBytes(ascii('completely different'), [ascii('zz'), ascii('qqqq'), ascii('')]);
    expect(cut[0]).toBe(0);
    expect(cut[3]).toBe(20);
    for (let k = 1; k < cut.length; k++) expect(cut[k]!).toBeGreaterThanOrEqual(cut[k - 1]!);
  });

  it('finds an insertion longer than the base band', () => {
    // 300 stream bytes the prompt lacks, in the middle: they must map to an empty span.
    const prompt = 'ab'.repeat(250);
    const tokens = [ascii('ab'.repeat(100)), ascii('#'.repeat(300)), ascii('ab'.repeat(150))];
    expect(Array.from(alignTokenBytes(ascii(prompt), tokens))).toEqual([0, 200, 200, 500]);
  });
});

describe('alignTokenBytes, exact path against edit distance', () => {
  it('agrees on random prompts cut at random bytes, with and without a prepended space', () => {
    let seed = 7;
    const rand = (k: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * k);
    };
    const alphabet = ['a', 'b', ' ', '  ', '\n', 'é', '日', '😀', 'Z', '!'];
    for (let trial = 0; trial < 300; trial++) {
      let prompt = '';
      for (let k = rand(40); k > 0; k--) prompt += alphabet[rand(alphabet.length)];
      const P = utf8(prompt);
      const stream = rand(2) ? utf8(' ' + prompt) : P;
      const tokens: Uint8Array[] = [];
      for (let at = 0; at < stream.length;) {
        const len = 1 + rand(4);
        tokens.push(stream.subarray(at, at + len));
        at += len;
      }
      const exact = Array.from(alignTokenBytes(P, tokens));
      expect(Array.from(alignTokenBytes(P, tokens, 'edit-distance')), JSON.stringify(prompt)).toEqual(exact);
    }
  });
});

describe('spansForTokens', () => {
  it('gives a split character to the token holding its last byte', () => {
    // "a日" as 'a', E6, 97 A5: the token completing 日 gets all of it.
    const spans = spansForTokens('a日', [ascii('a'), bytes(0xe6), bytes(0x97, 0xa5)]);
    expect(spans).toEqual([
      { start: 0, end: 1, text: 'a' },
      { start: 1, end: 1, text: '<0xE6>' },
      { start: 1, end: 2, text: '日' },
    ]);
  });

  it('counts astral characters as two UTF-16 units', () => {
    const spans = spansForTokens('😀!', [bytes(0xf0, 0x9f), bytes(0x98, 0x80, 0x21)]);
    expect(spans).toEqual([
      { start: 0, end: 0, text: '<0xF0><0x9F>' },
      { start: 0, end: 3, text: '😀!' },
    ]);
  });

  it('keeps a token that starts mid-character and runs on', () => {
    // "é" = C3 A9; tokens: "x" C3 | A9 "y"
    const spans = spansForTokens('xéy', [bytes(0x78, 0xc3), bytes(0xa9, 0x79)]);
    expect(spans.map((s) => [s.start, s.end])).toEqual([
      [0, 1],
      [1, 3],
    ]);
    expect(spans.map((s) => s.text)).toEqual(['x', 'éy']);
  });

  it('maps a lone surrogate as TextEncoder does (U+FFFD, three bytes)', () => {
    const prompt = 'a\ud800b';
    const spans = spansForTokens(prompt, [ascii('a'), bytes(0xef, 0xbf, 0xbd), ascii('b')]);
    expect(spans.map((s) => [s.start, s.end])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });

  it('covers the prompt for an empty prompt and for no tokens', () => {
    expect(spansForTokens('', [ascii(' ')])).toEqual([{ start: 0, end: 0, text: ' ' }]);
    expect(spansForTokens('abc', [])).toEqual([]);
  });
});
