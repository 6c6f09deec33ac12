// Permalink round trips (scores within the stated quantisation) and a fuzz corpus of damaged and
// hostile links, every one of which must end in a LinkError message quickly.

import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { DepassResult } from '../depass/result';
import { seededRandom } from '../model/testing/random-model';
import { decodeRun, encodeRun, fromBase64Url, LINK_PREFIX, LinkError, toBase64Url } from './permalink';
import { hostileLinks, sampleRun } from './testing/hostile-links';

function maxAbs(rows: number[][]): number {
  return Math.max(...rows.map((r) => Math.max(...r.map(Math.abs))));
}

function expectClose(a: number[][], b: number[][], tol: number) {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - b[i][j])).toBeLessThanOrEqual(tol)));
}

describe('permalinks', () => {
  it('round-trip a 64-token token+head run within the quantisation, and stay a few kilobytes', async () => {
    const run = await sampleRun(64);
    const link = encodeRun(run);
    const back = decodeRun(link);
    const r = run.result;
    const d: DepassResult = back.result;
    expect(d.tokens).toEqual(r.tokens);
    expect(d.prompt).toBe(r.prompt);
    expect(d.targets.map((t) => t.id)).toEqual(r.targets.map((t) => t.id));
    d.targets.forEach((t, i) => expect(t.logit).toBeCloseTo(r.targets[i].logit, 3));
    // Row-wise quantisation: error at most max|row| / 4094.
    r.token!.scores.forEach((row, i) => expectClose([d.token!.scores[i]], [row], maxAbs([row]) / 254 + 1e-9));
    r.head!.scores.forEach((rows, i) => expectClose(d.head!.scores[i], rows, maxAbs(rows) / 254 + 1e-9));
    expect(back.view).toEqual(run.view);
    expect(back.settings).toEqual(run.settings);
    console.log(`link size, 64 tokens, token+head modes, stories260K shape: ${link.length} characters`);
    // Random weights give near-incompressible scores; a trained model's links are smaller.
    expect(link.length).toBeLessThan(12_000);
  });

  it('carries neuron, module, layer detail and logit lens', async () => {
    const run = await sampleRun(12, ['token', 'neuron', 'module'], true);
    const back = decodeRun(encodeRun(run)).result;
    const r = run.result;
    r.neuron!.scores.forEach((row, i) => expectClose([back.neuron!.scores[i]], [row], maxAbs([row]) / 254 + 1e-9));
    expect(back.module!.names).toEqual(r.module!.names);
    expect(back.logit_lens!.length).toBe(12);
    expect(back.logit_lens![3][1].map((e) => e.id)).toEqual(r.logit_lens![3][1].map((e) => e.id));
    expect(back.token!.by_layer![5][4].length).toBe(12);
  });

  it('keeps a prompt with markup as plain text', async () => {
    const run = await sampleRun(4);
    run.result.prompt = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    run.result.tokens = run.result.tokens.map((t) => ({ ...t, start: 0, end: 5, text: '<b>x</b>' }));
    const back = decodeRun(encodeRun(run));
    expect(back.result.prompt).toBe(run.result.prompt);
    expect(back.result.tokens[0].text).toBe('<b>x</b>');
  });

  it('refuses links from a newer version and links of another kind, by name', () => {
    expect(() => decodeRun('#run=2.AAAA')).toThrow(/newer version/);
    expect(() => decodeRun('#something-else')).toThrow(/no DePass run/);
    expect(() => decodeRun('#run=x.AAAA')).toThrow(/damaged/);
  });

  it('stops a decompression bomb at the size cap', () => {
    const bomb = `${LINK_PREFIX}1.${toBase64Url(deflateSync(new Uint8Array(32 * 1024 * 1024), { level: 9 }))}`;
    expect(bomb.length).toBeLessThan(100_000);
    expect(() => decodeRun(bomb)).toThrow(/expands beyond/);
  });

  it('base64url round-trips every length', () => {
    const rnd = seededRandom(5);
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
      expect(Array.from(fromBase64Url(toBase64Url(b)))).toEqual(Array.from(b));
    }
  });
});

describe('hostile links', () => {
  it('end in a clear message, each within a second (2000 links)', async () => {
    const links = await hostileLinks(Number(process.env.DEPASS_FUZZ_LINKS ?? 2000));
    let slowest = 0;
    let refused = 0;
    for (const link of links) {
      const t0 = performance.now();
      try {
        decodeRun(link);
      } catch (err) {
        expect(err).toBeInstanceOf(LinkError);
        expect((err as Error).message).toMatch(/^this link|link/);
        refused++;
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    console.log(`hostile links: ${links.length} decoded, ${refused} refused, slowest ${slowest.toFixed(1)} ms`);
    // A few mutations (a flipped bit inside a score) still decode to a valid run; most must not.
    expect(refused).toBeGreaterThan(links.length * 0.8);
    expect(slowest).toBeLessThan(1000);
  });
});
