// Opening fragments in the page's way (here without workers, so inline): a fragment is decoded
// once however often it is asked for, an over-long one is refused before any decoding, and
// failures come back as the codec's one-line LinkError.

import { describe, expect, it } from 'vitest';
import { isRunFragment, openFragment } from './decode';
import { MAX_LINK_CHARS } from './permalink/caps';
import { encodeRun } from './permalink/encode';
import { LinkError } from './permalink/format';
import { sampleRun } from './testing/hostile-links';

describe('opening fragments', () => {
  it('decodes a fragment once, however often it is asked for', async () => {
    const link = encodeRun(await sampleRun(6));
    const a = openFragment(link);
    const b = openFragment(link);
    expect(b).toBe(a);
    const run = await a;
    expect(run.result.tokens).toHaveLength(6);
    expect(await b).toBe(run);
  });

  it('refuses an over-long fragment before decoding it, and a damaged one with its message', async () => {
    const long = `#run=2.${'A'.repeat(MAX_LINK_CHARS)}`;
    const t0 = performance.now();
    await expect(openFragment(long)).rejects.toThrow(/this link is too long/);
    expect(performance.now() - t0).toBeLessThan(100);
    await expect(openFragment('#run=2.AAAA')).rejects.toBeInstanceOf(LinkError);
    await expect(openFragment('#run=2.AAAA')).rejects.toThrow(/^this link is damaged/);
  });

  it('recognises run fragments only', () => {
    expect(isRunFragment('#run=2.abc')).toBe(true);
    expect(isRunFragment('#heads')).toBe(false);
    expect(isRunFragment('')).toBe(false);
  });
});
