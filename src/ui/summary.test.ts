// The screen-reader sentence names the position, the target and the top contributors with
// their scores and shares, in order of |score|.

import { describe, expect, it } from 'vitest';
import { focusOf } from '../state/selectors';
import { handResult } from '../state/testing';
import { specialMask } from '../depass/words';
import { sourceSet } from './sources';
import { summarize } from './summary';

/** A token as sentences quote it: isolated so that its direction cannot leak. */
const q = (t: string) => `“\u2068${t}\u2069”`;

const vocab = Array.from({ length: 32 }, (_, i) => (i === 13 ? ' dog' : i === 20 ? ' cat' : `w${i}`));

describe('summarize', () => {
  it('lists tokens, heads and neurons by |score|', () => {
    const s = summarize(focusOf(handResult(), null, 3)!, vocab, 2);
    expect(s).toBe(
      `At position 3 (${q(' c')}), the prediction ${q(' dog')} has logit 4; the largest contributions come from ` +
        `source tokens ${q('a')} at 1 (+2, 50%), ${q(' c')} at 3 (+1.5, 38%); and heads layer 1 head 0 (+2), layer 1 head 1 (+0.75); ` +
        'and layer 1 neurons 2 (+2), 1 (−1).',
    );
  });

  it('says when a contrast is explained', () => {
    const r = handResult();
    r.targets[1] = { position: 1, id: 13, contrast_id: 20, logit: 4 };
    const s = summarize(focusOf(r, null, 1)!, vocab, 1);
    expect(s).toContain(`${q(' dog')} over ${q(' cat')} has logit difference 4`);
    // Shares of a difference say so: they can pass 100% or change sign.
    expect(s).toContain(`${q('a')} at 1 (+3, 75% of the difference)`);
  });

  it('ranks words, and leaves hidden special tokens out of the ranking but names their total', () => {
    const r = handResult('a b c');
    const f = focusOf(r, null, 3)!;
    const set = (words: boolean, hideSpecial: boolean) => sourceSet(r.tokens, r.prompt, specialMask(r.tokens), { words, hideSpecial });
    // Words off, nothing hidden: the same sentence as without sources.
    expect(summarize(f, vocab, 2, false, set(false, false))).toBe(summarize(f, vocab, 2));
    // Scores at 3: <s> 1, a 2, b −1, c 1.5. Hidden: <s> leaves the ranking, b comes in, <s>'s total follows.
    const hidden = summarize(f, vocab, 3, false, set(false, true));
    expect(hidden).toContain(
      `source tokens ${q('a')} at 1 (+2, 50%), ${q(' c')} at 3 (+1.5, 38%), ${q(' b')} at 2 (−1, -25%), the hidden special tokens together (+1, 25%)`,
    );
    // Each prompt word is one token here, so words say "words" and quote the word without its space.
    expect(summarize(f, vocab, 1, false, set(true, true))).toContain(`source words ${q('a')} at 1 (+2, 50%), the hidden special tokens together (+1, 25%)`);
  });
});
