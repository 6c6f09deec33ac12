// Comparison links: two runs in one fragment, the second after its own key, each part read by the
// ordinary codec. Older single-run links (version 1 and 2) decode unchanged, and the caps hold.

import { describe, expect, it } from 'vitest';
import { COMPARE_KEY, decodeLink, joinLink, splitLink } from './compare-link';
import { MAX_LINK_CHARS } from './permalink/caps';
import { decodeRun } from './permalink/decode';
import { encodeRun } from './permalink/encode';
import { LinkError } from './permalink/format';
import { sampleRun } from './testing/hostile-links';
import { V1_LINK } from './testing/v1-link';

describe('comparison links', () => {
  it('carry two runs, each read back as its own link would be', async () => {
    const first = await sampleRun(8);
    const second = await sampleRun(6);
    second.result.prompt += ' and more';
    second.settings = { ...second.settings, target: 3, contrast: 4 };
    const a = encodeRun(first);
    const b = encodeRun(second);
    const link = joinLink(a, b);
    expect(link.startsWith(a + COMPARE_KEY)).toBe(true);
    const back = decodeLink(link);
    expect(back.run).toEqual(decodeRun(a));
    expect(back.second).toEqual(decodeRun(b));
    expect(back.second!.result.prompt).toBe(second.result.prompt);
    expect(back.second!.settings.target).toBe(3);
    expect(back.second!.settings.contrast).toBe(4);
  });

  it('of two 64-token token+head runs stay about twice a single run’s size', async () => {
    const one = encodeRun(await sampleRun(64));
    const two = joinLink(one, encodeRun(await sampleRun(64)));
    console.log(`comparison link, two 64-token token+head runs, stories260K shape: ${two.length} characters (one run: ${one.length})`);
    expect(two.length).toBeLessThanOrEqual(2 * one.length + COMPARE_KEY.length);
  });

  it('read a single run’s link (either version) exactly as before', async () => {
    const one = encodeRun(await sampleRun(5));
    expect(splitLink(one)).toEqual({ first: one, second: null });
    expect(decodeLink(one)).toEqual({ run: decodeRun(one), second: null });
    expect(decodeLink(V1_LINK)).toEqual({ run: decodeRun(V1_LINK), second: null });
  });

  it('refuse two runs of different models, a damaged second part and an over-long whole', async () => {
    const first = await sampleRun(4);
    const other = await sampleRun(4);
    other.result.model = { ...other.result.model, fingerprint: 'sha256:someone-else' };
    expect(() => decodeLink(joinLink(encodeRun(first), encodeRun(other)))).toThrow(/different models/);
    const a = encodeRun(first);
    expect(() => decodeLink(`${a}${COMPARE_KEY}2.%%%`)).toThrow(LinkError);
    expect(() => decodeLink(`${a}${COMPARE_KEY}9.AAAA`)).toThrow(/newer version/);
    const long = `${a}${COMPARE_KEY}2.${'A'.repeat(MAX_LINK_CHARS)}`;
    expect(() => decodeLink(long)).toThrow(/too long/);
  });
});
