// The screen-reader sentence names the position, the target and the top contributors with
// their scores and shares, in order of |score|.

import { describe, expect, it } from 'vitest';
import { focusOf } from '../state/selectors';
import { handResult } from '../state/testing';
import { summarize } from './summary';

const vocab = Array.from({ length: 32 }, (_, i) => (i === 13 ? ' dog' : i === 20 ? ' cat' : `w${i}`));

describe('summarize', () => {
  it('lists tokens, heads and neurons by |score|', () => {
    const s = summarize(focusOf(handResult(), null, 3)!, vocab, 2);
    expect(s).toBe(
      'At position 3 (“ c”), the prediction “ dog” has logit 4; the largest contributions come from ' +
        'source tokens “a” at 1 (+2, 50%), “ c” at 3 (+1.5, 38%); and heads layer 1 head 0 (+2), layer 1 head 1 (+0.75); ' +
        'and layer 1 neurons 2 (+2), 1 (−1).',
    );
  });

  it('says when a contrast is explained', () => {
    const r = handResult();
    r.targets[1] = { position: 1, id: 13, contrast_id: 20, logit: 4 };
    expect(summarize(focusOf(r, null, 1)!, vocab, 1)).toContain('“ dog” over “ cat” has logit difference 4');
  });
});
