// Fuzzes permalinks: the hostile-link corpus of the permalink tests plus seeded mutations of three
// valid links (two of the current format, one of version 1) at every layer (fragment text, deflate stream, container, JSON head fields), through
// decodeRun. A decoded run must be consistent and re-encode to a link that decodes.

import { describe, expect, it } from 'vitest';
import { MAX_INFLATED_BYTES } from '../src/share/permalink/caps';
import { decodeRun } from '../src/share/permalink/decode';
import { encodeRun } from '../src/share/permalink/encode';
import { LinkError, type SharedRun } from '../src/share/permalink/format';
import { hostileLinks, sampleRun } from '../src/share/testing/hostile-links';
import { V1_LINK } from '../src/share/testing/v1-link';
import { checkRun } from './checks';
import { failureLines, formatReport, fuzzCount, fuzzSeed, refusalProblem, runFuzz, type FuzzSuite } from './harness';
import { mutateLink } from './links';

const N = fuzzCount();
const SEED = fuzzSeed(18);
// A current link with a target re-run, a small one with neurons, and a version-1 link.
const valid = [
  encodeRun(await sampleRun(16, ['token', 'head', 'module'], true, { override: true })),
  encodeRun(await sampleRun(6, ['token', 'neuron'])),
  V1_LINK,
];
// A quarter of the cases come from the corpus the permalink tests use.
const corpus = await hostileLinks(Math.ceil(N / 4), SEED);

const suite: FuzzSuite<SharedRun> = {
  name: 'permalinks',
  cases: N,
  seed: SEED,
  makeCase(rng, i) {
    let link: string;
    let label: string;
    if (i % 4 === 0) {
      link = corpus[i / 4]!;
      label = `hostile corpus #${i / 4}`;
    } else {
      const k = rng.int(valid.length);
      const m = mutateLink(rng, valid[k]!, valid[(k + 1 + rng.int(valid.length - 1)) % valid.length]!);
      link = m.value;
      label = `link ${k}: ${m.ops.join('; ')}`;
    }
    return {
      label,
      inputBytes: link.length,
      names: ['this link'],
      load: async () => decodeRun(link),
      check: checkRun,
    };
  },
  judgeError: (e, c) => refusalProblem(e, LinkError, c.names),
  refusalKind: (e) =>
    e instanceof Error
      ? e.message
          .replace(/^this link (is )?/, '')
          .replace(/\(.*$/, '')
          .slice(0, 40)
      : 'other',
  // Decoding may inflate up to the cap whatever the link's length; on the way the inflater's
  // output buffer grows by doubling, leaving about four times the cap of garbage (measured: a
  // 64 MB bomb stops after 21 to 35 MB of ArrayBuffers). A bomb inflated in full would pass 128 MB.
  memoryBound: (chars) => 10 * MAX_INFLATED_BYTES + 64 * chars + 16 * 1024 * 1024,
};

describe('fuzz: permalinks', () => {
  it(`${N} hostile and mutated links decode consistently or end in a one-line LinkError, each within 1 s`, async () => {
    const report = await runFuzz(suite);
    console.log(formatReport(report));
    expect(failureLines(report)).toEqual([]);
    expect(report.cases).toBe(N);
    expect(report.refused).toBeGreaterThan(N * 0.5);
  });
});
