// Number and token formatting.

import { describe, expect, it } from 'vitest';
import { bytes, clip, compact, count, heldDecimals, heldSigned, isolate, num, percent, plainText, scoreText, signed, tokenLabel, tokenSpeech } from './format';

describe('format', () => {
  it('numbers: four significant digits, exponent for extremes', () => {
    expect(num(17.7994)).toBe('17.8');
    expect(num(0.123456)).toBe('0.1235');
    expect(num(0)).toBe('0');
    expect(num(2e-7, 2)).toBe('2e-7');
    expect(num(123456)).toBe('1.23e+5');
    expect(signed(-1.5)).toBe('−1.5');
    expect(signed(2)).toBe('+2');
    expect(percent(0.4213)).toBe('42%');
    expect(percent(0.0421)).toBe('4.2%');
    expect(percent(0)).toBe('0%');
    expect(compact(-0.0572)).toBe('−0.06');
    expect(compact(-0.001)).toBe('0.00');
    expect(compact(12.34)).toBe('12.3');
    expect(compact(-148.2)).toBe('−148');
  });

  it('sizes', () => {
    expect(bytes(1016 * 1024)).toBe('1016 KB');
    expect(bytes(1536)).toBe('1.5 KB');
    expect(count(260_000)).toBe('260.0 K');
    expect(count(124_439_808)).toBe('124.44 M');
  });

  it('tokens: whitespace and control characters become visible', () => {
    expect(tokenLabel(' the')).toBe('·the');
    expect(tokenLabel('\n\t')).toBe('↵⇥');
    expect(tokenLabel('\u0001')).toBe('<0x01>');
    expect(tokenLabel('')).toBe('∅');
    // Form feed, vertical tab, ESC and BEL: the characters XML forbids, as byte tokens are written.
    expect(tokenLabel('\f\v\u001b\u0007')).toBe('<0x0C><0x0B><0x1B><0x07>');
    expect(tokenLabel('a\u00a0b\u007f\u0085')).toBe('a<U+00A0>b<0x7F><0x85>');
  });

  it('bidirectional controls are shown, not obeyed', () => {
    // "\u202egpj.exe" would display as "exe.jpg".
    expect(tokenLabel('\u202egpj.exe')).toBe('<U+202E>gpj.exe');
    expect(plainText('a\u2066b\u2069\u200fc\u061c')).toBe('a<U+2066>b<U+2069><U+200F>c<U+061C>');
    expect(plainText('plain text, שלום')).toBe('plain text, שלום');
    // Sentences isolate each token (first-strong isolate ... pop) and cut long ones.
    expect(isolate('שלום')).toBe('\u2068שלום\u2069');
    expect(tokenSpeech('\u202eab')).toBe('“\u2068<U+202E>ab\u2069”');
    expect(tokenSpeech('x'.repeat(300), 10)).toBe(`“\u2068${'x'.repeat(9)}…\u2069”`);
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('abcd', 3)).toBe('ab…');
  });
});

describe('scores from a link', () => {
  it('show only the digits the link holds', () => {
    // A row whose largest score is 12.7 is stored in steps of 0.1: one decimal.
    const row = [12.7, 0.06, -3];
    expect(heldDecimals(row)).toBe(1);
    expect(heldDecimals([1.27])).toBe(2);
    expect(heldDecimals([500])).toBe(0);
    expect(heldDecimals([0, 0])).toBe(0);
    // 0.06 was stored as 0.1 (the nearest step); shown as 0.1, not as an exact-looking 0.1000.
    expect(heldSigned(0.1, 1)).toBe('+0.1');
    expect(heldSigned(-0.0001, 2)).toBe('0.00');
    expect(scoreText(0.1, row, true)).toBe('+0.1');
    expect(scoreText(0.06, row, false)).toBe('+0.06');
  });

  it('the last digit shown is within one unit of the value before quantisation', () => {
    // Quantise as the link does (bytes times max/127), then print with heldDecimals.
    for (let seed = 1; seed < 200; seed++) {
      const row = Array.from({ length: 12 }, (_, i) => Math.sin(seed * 7.1 + i * 3.3) * 10 ** ((seed % 5) - 2));
      const max = Math.max(...row.map(Math.abs));
      const scale = Math.fround(max / 127);
      const back = row.map((v) => Math.round(v / scale) * scale);
      const d = heldDecimals(back);
      row.forEach((v, i) => expect(Math.abs(Number(heldSigned(back[i], d).replace('−', '-')) - v)).toBeLessThanOrEqual(10 ** -d + 1e-12));
    }
  });
});
