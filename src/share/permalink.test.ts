// Permalink round trips (scores within the stated quantisation) and a fuzz corpus of damaged and
// hostile links, every one of which must end in a LinkError message quickly.

import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { DepassResult } from '../depass/result';
import { seededRandom } from '../model/testing/random-model';
import { fromBase64Url, toBase64Url } from './permalink/base64url';
import { decodeRun, linkVersion } from './permalink/decode';
import { encodeRun } from './permalink/encode';
import { LINK_PREFIX, LINK_VERSION, LinkError, type SharedRun } from './permalink/format';
import { decodeRaw, hostileLinks, sampleRun } from './testing/hostile-links';
import { V1_LINK } from './testing/v1-link';

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
    expect(() => decodeRun(`#run=${LINK_VERSION + 1}.AAAA`)).toThrow(/newer version/);
    expect(() => decodeRun('#something-else')).toThrow(/no DePass run/);
    expect(() => decodeRun('#run=x.AAAA')).toThrow(/damaged/);
  });

  it('stops a decompression bomb at the size cap', () => {
    const bomb = `${LINK_PREFIX}${LINK_VERSION}.${toBase64Url(deflateSync(new Uint8Array(32 * 1024 * 1024), { level: 9 }))}`;
    expect(bomb.length).toBeLessThan(100_000);
    expect(() => decodeRun(bomb)).toThrow(/expands beyond/);
  });

  it('carries a target re-run (a contrast), the model shape, the vocabulary texts and the pinned neuron', async () => {
    const run = await sampleRun(10, ['token', 'head', 'neuron'], true, { override: true });
    const back = decodeRun(encodeRun(run));
    const o = run.override!;
    const bo = back.override!;
    expect([bo.position, bo.target, bo.contrast]).toEqual([o.position, o.target, o.contrast]);
    expect(bo.result.targets.map((t) => [t.position, t.id, t.contrast_id])).toEqual([[8, o.target, o.contrast]]);
    expect(bo.result.targets[0].logit).toBeCloseTo(o.result.targets[0].logit, 3);
    // The contrast's logit is the difference of the two tokens' logits in the main predictions.
    const top = run.result.predictions[8].top;
    expect(bo.result.targets[0].logit).toBeCloseTo(top[1].logit - top[0].logit, 2);
    const row = o.result.token!.scores[0];
    expectClose(bo.result.token!.scores, [row], maxAbs([row]) / 254 + 1e-9);
    o.result.head!.scores[0].forEach((r, l) => expectClose([bo.result.head!.scores[0][l]], [r], maxAbs(o.result.head!.scores[0]) / 254 + 1e-9));
    expect(bo.result.predictions).toBe(back.result.predictions);
    expect(back.shape).toEqual({ layers: 5, vocab_size: 512 });
    expect(back.vocab).toEqual(run.vocab);
    expect(back.view.neuron).toBe(7);
    expect(back.settings.layerDetail).toBe(true);
  });

  it('carries target re-runs at several positions, one per position', async () => {
    const run = await sampleRun(10, ['token', 'head'], false, { override: true });
    const first = run.override!;
    // A second chosen target, at another position, with its own scores.
    const second = structuredClone(first);
    second.position = 3;
    second.target = run.result.predictions[3].top[2].id;
    second.contrast = null;
    second.result.targets = [{ position: 3, id: second.target, contrast_id: null, logit: run.result.predictions[3].top[2].logit }];
    second.result.token!.scores = [[0.25, -1, 0.5, 2, 0, 0, 0, 0, 0, 0]];
    second.result.token!.rest = [second.result.targets[0].logit - 1.75];
    run.more = [second];
    const back = decodeRun(encodeRun(run));
    expect(back.override!.position).toBe(first.position);
    expect(back.more!.map((m) => [m.position, m.target, m.contrast])).toEqual([[3, second.target, null]]);
    expectClose(back.more![0].result.token!.scores, second.result.token!.scores, 2 / 254 + 1e-9);
    // Further re-runs without a first one are a damaged link.
    const lone = { ...run, override: undefined };
    expect(decodeRun(encodeRun(lone)).more).toBeUndefined();
  });

  it('decoded scores still add up to the logit: the rest takes the rounding of the scores', async () => {
    const run = await sampleRun(12, ['token', 'head', 'neuron'], true);
    const r = run.result;
    const d = decodeRun(encodeRun(run)).result;
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    // Completeness as the run had it, against the stored logit, to 1e-6.
    const own = (scores: number[], rest: number, i: number) => sum(scores) + rest - r.targets[i].logit;
    d.targets.forEach((t, i) => {
      expect(Math.abs(sum(d.token!.scores[i]) + d.token!.rest[i] - t.logit - own(r.token!.scores[i], r.token!.rest[i], i))).toBeLessThanOrEqual(5e-4 + 1e-6);
      expect(Math.abs(sum(d.neuron!.scores[i]) + d.neuron!.rest[i] - t.logit - own(r.neuron!.scores[i], r.neuron!.rest[i], i))).toBeLessThanOrEqual(
        5e-4 + 1e-6,
      );
      d.head!.scores[i].forEach((heads, l) => {
        expect(Math.abs(sum(heads) + d.head!.rest[i][l] - t.logit - own(r.head!.scores[i][l], r.head!.rest[i][l], i))).toBeLessThanOrEqual(5e-4 + 1e-6);
      });
      // The rest moves by at most the rounding of its row: n entries of at most max/254 each.
      const tokRow = r.token!.scores[i];
      expect(Math.abs(d.token!.rest[i] - r.token!.rest[i])).toBeLessThanOrEqual(((t.position + 1) * maxAbs([tokRow])) / 254 + 1e-3);
    });
    // The last layer of the read-out is the final scores, restored rather than stored.
    d.token!.by_layer!.forEach((layers, i) => expect(layers[layers.length - 1]).toEqual(d.token!.scores[i]));
    d.logit_lens!.forEach((layers, t) => expect(layers[layers.length - 1].map((e) => e.id)).toEqual(r.predictions[t].top.map((e) => e.id)));
    r.logit_lens!.forEach((layers, t) =>
      layers.forEach((es, l) => es.forEach((e, k) => expect(Math.abs(d.logit_lens![t][l][k].logit - e.logit)).toBeLessThanOrEqual(5e-4 + 1e-9))),
    );
  });

  it('writes targets that are the predictions, and token texts that are the prompt, only once', async () => {
    const run = await sampleRun(8);
    const { head } = decodeRaw(encodeRun(run));
    expect(head.targets).toBe('predictions');
    expect((head.tokens as unknown[][]).every((t) => t.length === 3)).toBe(true);
    // A token whose text is not its span of the prompt keeps its text.
    run.result.tokens[0] = { ...run.result.tokens[0], text: '<s>', start: 0, end: 0 };
    const back = decodeRun(encodeRun(run));
    expect(back.result.tokens[0].text).toBe('<s>');
    expect(back.result.tokens[1].text).toBe(run.result.tokens[1].text);
  });

  it('still reads version-1 links', async () => {
    expect(linkVersion(V1_LINK)).toBe(1);
    const back = decodeRun(V1_LINK);
    const r = (await sampleRun(6, ['token', 'head', 'module'], true)).result;
    const d = back.result;
    expect(d.tokens).toEqual(r.tokens);
    expect(d.targets.map((t) => [t.position, t.id])).toEqual(r.targets.map((t) => [t.position, t.id]));
    r.token!.scores.forEach((row, i) => expectClose([d.token!.scores[i]], [row], maxAbs([row]) / 254 + 1e-9));
    r.head!.scores.forEach((rows, i) => expectClose(d.head!.scores[i], rows, maxAbs(rows) / 254 + 1e-9));
    r.head!.rest.forEach((row, i) => row.forEach((v, l) => expect(Math.abs(d.head!.rest[i][l] - v)).toBeLessThanOrEqual(5e-4 + 1e-9)));
    expect(d.module!.names).toEqual(r.module!.names);
    expect(d.logit_lens![2][3].map((e) => e.id)).toEqual(r.logit_lens![2][3].map((e) => e.id));
    expect(back.view).toEqual({ selected: 5, views: ['tokens', 'heads', 'flow'], threshold: 0.2, head: { layer: 1, head: 3 }, layer: 2 });
  });

  it('checks ids and layers against the model shape the link states', async () => {
    const run = await sampleRun(6, ['token', 'head']);
    expect(() => decodeRun(encodeRun({ ...run, shape: { layers: 3, vocab_size: 512 } }))).toThrow(/head layer/);
    expect(() => decodeRun(encodeRun({ ...run, shape: { layers: 5, vocab_size: 100 } }))).toThrow(/id/);
  });

  it('carries the Hub id and commit of the model, and refuses anything else in their place', async () => {
    const run = await sampleRun(4);
    expect(decodeRun(encodeRun(run)).source).toBeUndefined();
    const source = { hub: 'HuggingFaceTB/SmolLM2-135M', revision: '0123456789abcdef0123456789abcdef01234567' };
    expect(decodeRun(encodeRun({ ...run, source })).source).toEqual(source);
    // A link may not name a branch (it would not say which weights), an address or a malformed id.
    for (const bad of [
      { hub: 'HuggingFaceTB/SmolLM2-135M', revision: 'main' },
      { hub: 'https://evil.example/x', revision: source.revision },
      { hub: '../../x', revision: source.revision },
      { hub: 42, revision: source.revision },
    ]) {
      expect(() => decodeRun(encodeRun({ ...run, source: bad as typeof source }))).toThrow(/this link is damaged: model (source|revision)/);
    }
  });

  it('carries the words and special-token settings, checks them, and reads links without them as off', async () => {
    const run = await sampleRun(6);
    const plain = decodeRun(encodeRun(run)).view;
    expect([plain.words, plain.hideSpecial, plain.special]).toEqual([undefined, undefined, undefined]);
    const view = { ...run.view, words: true, hideSpecial: true, special: [2, 4] };
    expect(decodeRun(encodeRun({ ...run, view })).view).toEqual(view);
    for (const [bad, why] of [
      [{ words: 'yes' }, /words setting/],
      [{ hideSpecial: 1 }, /special tokens setting/],
      [{ special: [6] }, /special token position/],
      [{ special: [-1] }, /special token position/],
      [{ special: [3, 3] }, /not ascending/],
      [{ special: 'all' }, /special tokens/],
    ] as const) {
      expect(() => decodeRun(encodeRun({ ...run, view: { ...run.view, ...(bad as object) } })), JSON.stringify(bad)).toThrow(why);
    }
  });

  it('carries where generated tokens begin, checks it, and reads links without it as none', async () => {
    const run = await sampleRun(6);
    expect(decodeRun(encodeRun(run)).view.generated).toBeUndefined();
    const view = { ...run.view, generated: { first: 3, temperature: 0.5, seed: 4294967295 } };
    expect(decodeRun(encodeRun({ ...run, view })).view).toEqual(view);
    for (const [bad, why] of [
      [{ first: 0, temperature: 0, seed: 1 }, /first generated position/],
      [{ first: 6, temperature: 0, seed: 1 }, /first generated position/],
      [{ first: 2, temperature: -1, seed: 1 }, /generation temperature/],
      [{ first: 2, temperature: 0, seed: 2 ** 32 }, /generation seed/],
      ['yes', /generated tokens/],
    ] as const) {
      expect(() => decodeRun(encodeRun({ ...run, view: { ...run.view, generated: bad as never } })), JSON.stringify(bad)).toThrow(why);
    }
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
  it('end in a clear message (2000 links; the slowest decode is printed, not asserted: the caps bound the work)', async () => {
    const links = await hostileLinks(Number(process.env.DEPASS_FUZZ_LINKS ?? 2000));
    let slowest = 0;
    let refused = 0;
    for (const link of links) {
      const t0 = performance.now();
      let run: SharedRun | null = null;
      try {
        run = decodeRun(link);
      } catch (err) {
        expect(err).toBeInstanceOf(LinkError);
        expect((err as Error).message).toMatch(/^this link|link/);
        refused++;
      }
      slowest = Math.max(slowest, performance.now() - t0);
      // Whatever decodes must encode again into a link that decodes to the same tokens.
      if (run) expect(decodeRun(encodeRun(run)).result.tokens).toEqual(run.result.tokens);
    }
    console.log(`hostile links: ${links.length} decoded, ${refused} refused, slowest ${slowest.toFixed(1)} ms`);
    // A few mutations (a flipped bit inside a score) still decode to a valid run; most must not.
    expect(refused).toBeGreaterThan(links.length * 0.8);
  });
});
