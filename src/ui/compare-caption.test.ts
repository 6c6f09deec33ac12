// A comparison's exported pictures name the model once and both runs' prompts, positions and
// targets, and say which way the differences go.

import { describe, expect, it } from 'vitest';
import { compareRuns } from '../state/compare';
import { handResult } from '../state/testing';
import { comparisonCaption, promptsAround } from './compare-caption';

const vocab = Array.from({ length: 32 }, (_, i) => (i === 13 ? ' dog' : i === 20 ? ' cat' : `w${i}`));
const q = (t: string) => `“\u2068${t}\u2069”`;

describe('comparison captions', () => {
  it('name both runs, first then second, and the sign of the differences', () => {
    const a = handResult('a b c');
    const b = handResult('a b d');
    b.tokens[3] = { id: 9, text: ' d', start: 3, end: 5 };
    b.targets[3] = { position: 3, id: 20, contrast_id: 13, logit: 0.5 };
    const lines = comparisonCaption('Flow', compareRuns(a, [], null, b, [])!, vocab, false);
    expect(lines).toEqual([
      'DePass Studio · Flow · model hand (hand) · comparison of two runs',
      'first prompt: “a b c” (4 tokens)',
      `first: position 3 ${q(' c')} · target ${q(' dog')} (the model’s prediction), logit 4`,
      'second prompt: “a b d” (4 tokens)',
      `second: position 3 ${q(' d')} · target ${q(' cat')} vs ${q(' dog')}, logit difference 0.5`,
      'differences are first − second · MLP rule: softmax, τ 0.1',
    ]);
  });
});

describe('prompts cut around their difference', () => {
  it('keep short prompts whole and show where long ones differ', () => {
    expect(promptsAround('a b c', 'a b d', 20)).toEqual(['a b c', 'a b d']);
    const a = 'Sam got a blue bike. Mia got a white bike. Mia’s bike is';
    const b = 'Sam got a blue bike. Mia got a white bike. Sam’s bike is';
    // They differ at 43 (of 56): 20 characters from 33 keep the difference in view.
    expect(promptsAround(a, b, 20)).toEqual(['…ite bike. Mia’s bike…', '…ite bike. Sam’s bike…']);
    expect(promptsAround('xxxxxxxxxx1yyyyyyyyyy', 'xxxxxxxxxx2yyyyyyyyyy', 6)).toEqual(['…xxx1yy…', '…xxx2yy…']);
  });
});
