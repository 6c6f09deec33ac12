// The screen-reader sentence names the position, the target and the top contributors with
// their scores and shares, in order of |score|.

import { describe, expect, it } from 'vitest';
import { focusOf } from '../state/selectors';
import { handResult } from '../state/testing';
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
});
