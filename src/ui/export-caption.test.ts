// The caption under exported pictures names the model, fingerprint, prompt, position, target (or
// contrast) and rule, with hidden characters made visible.

import { describe, expect, it } from 'vitest';
import { focusOf } from '../state/selectors';
import { handResult } from '../state/testing';
import { captionLines } from './export-caption';
import { xmlSafe } from './export';

const vocab = Array.from({ length: 32 }, (_, i) => (i === 13 ? ' dog' : i === 20 ? ' cat' : `w${i}`));
const q = (t: string) => `“\u2068${t}\u2069”`;

describe('export captions', () => {
  it('say model, fingerprint, prompt, position, target and rule', () => {
    const lines = captionLines('Token attribution', focusOf(handResult('a b c'), null, 2)!, vocab, false);
    expect(lines).toEqual([
      'DePass Studio · Token attribution · model hand (hand)',
      'prompt: “a b c” (4 tokens)',
      `position 2 ${q(' b')} · target ${q('w12')} (the model’s prediction), logit 4`,
      'MLP rule: softmax, τ 0.1',
    ]);
  });

  it('name a contrast, a shared link, and show hidden characters', () => {
    const r = handResult('a\u202eb\u001b');
    r.model.name = 'evil\u0007name';
    r.targets[1] = { position: 1, id: 13, contrast_id: 20, logit: -1.5 };
    const lines = captionLines('Flow', focusOf(r, null, 1)!, vocab, true);
    expect(lines[0]).toBe('DePass Studio · Flow · model evil<0x07>name (hand)');
    expect(lines[1]).toBe('prompt: “a<U+202E>b<0x1B>” (4 tokens)');
    expect(lines[2]).toContain(`target ${q(' dog')} vs ${q(' cat')}, logit difference −1.5`.replace('−', '-'));
    expect(lines[3]).toContain('from a shared link');
  });
});

describe('export captions of views that list sources', () => {
  it('say when the scores are per word and when special tokens are hidden, and nothing when neither', () => {
    const f = focusOf(handResult('a b c'), null, 2)!;
    expect(captionLines('Flow', f, vocab, false, { words: false, hideSpecial: false })).toEqual(captionLines('Flow', f, vocab, false));
    const lines = captionLines('Flow', f, vocab, false, { words: true, hideSpecial: true });
    expect(lines[0]).toBe('DePass Studio · Flow per word · model hand (hand)');
    expect(lines[4]).toBe('scores per word (each the exact sum of its tokens’ scores) · special tokens hidden, their total shown as one entry');
    expect(captionLines('Flow', f, vocab, false, { words: false, hideSpecial: true })[4]).toBe('special tokens hidden, their total shown as one entry');
  });
});

describe('xmlSafe', () => {
  it('replaces only what XML forbids', () => {
    expect(xmlSafe('a\u0000b\u000b\u000c\u001b\u0007\t\n\r')).toBe('a␀b␋␌␛␇\t\n\r');
    expect(xmlSafe('\ud800x\udc00 😀 \uffff')).toBe('\ufffdx\ufffd 😀 \ufffd');
    expect(xmlSafe('<plain> & “text” שלום')).toBe('<plain> & “text” שלום');
  });
});
