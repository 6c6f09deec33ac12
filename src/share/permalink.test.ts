// Permalink round trips (scores within the stated quantisation) and a fuzz corpus of damaged and
// hostile links, every one of which must end in a LinkError message quickly.

import { deflateSync, inflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../depass/cpu-backend';
import { toReferenceModel } from '../depass/reference-model';
import type { DepassResult } from '../depass/result';
import { runDepass } from '../depass/run';
import { randomModel, seededRandom } from '../model/testing/random-model';
import { decodeRun, encodeRun, fromBase64Url, LINK_PREFIX, LinkError, type SharedRun, toBase64Url } from './permalink';

async function sampleRun(T: number, modes: ('token' | 'head' | 'neuron' | 'module')[] = ['token', 'head'], detail = false): Promise<SharedRun> {
  // stories260K's shape: 5 layers, D=64, 8 heads, 4 KV heads, I=172, V=512.
  const { description, weights } = randomModel({
    family: 'llama', vocab_size: 512, hidden_size: 64, num_hidden_layers: 5, num_attention_heads: 8,
    num_key_value_heads: 4, intermediate_size: 172, max_position_embeddings: 512, seed: 3,
  });
  const rnd = seededRandom(9);
  const ids = Array.from({ length: T }, () => Math.floor(rnd() * 512));
  let pos = 0;
  const prompt = ids.map((id) => `w${id}`).join(' ');
  const tokens = ids.map((id) => {
    const text = `w${id}`;
    const start = pos;
    pos += text.length + 1;
    return { id, text, start, end: start + text.length };
  });
  const result = await runDepass(
    new CpuBackend(toReferenceModel(description, weights)),
    { model: { name: 'stories-shaped', fingerprint: 'sha256:0123', description }, prompt, tokens, bosAtZero: false },
    { modes, layerDetail: detail, layer: 2 },
  );
  return {
    result,
    settings: { modes, rule: 'softmax' },
    view: { selected: T - 1, views: ['tokens', 'heads', 'flow'], threshold: 0.2, head: { layer: 1, head: 3 }, layer: 2 },
  };
}

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

/** Builds n hostile links from a valid one: every one must end in a LinkError, each fast. */
export async function hostileLinks(n: number, seed = 1): Promise<string[]> {
  const good = encodeRun(await sampleRun(16, ['token', 'head', 'module'], true));
  const body = good.slice(LINK_PREFIX.length + 2);
  const rnd = seededRandom(seed);
  // The costly hostile inputs are built once and repeated.
  const bomb = `${LINK_PREFIX}1.${toBase64Url(deflateSync(new Uint8Array(64 * 1024 * 1024), { level: 9 }))}`;
  const oversized = `${LINK_PREFIX}1.${'A'.repeat(1_000_001)}`;
  const pick = (k: number) => Math.floor(rnd() * k);
  const container = (head: unknown, tail: Uint8Array = new Uint8Array(0)) => {
    const json = new TextEncoder().encode(JSON.stringify(head));
    const c = new Uint8Array(4 + json.length + tail.length);
    new DataView(c.buffer).setUint32(0, json.length, true);
    c.set(json, 4);
    c.set(tail, 4 + json.length);
    return `${LINK_PREFIX}1.${toBase64Url(deflateSync(c))}`;
  };
  const decodedHead = () => JSON.parse(JSON.stringify(decodeRaw(good).head));
  const out: string[] = [];
  const makers: (() => string)[] = [
    // Truncations at random points.
    () => good.slice(0, LINK_PREFIX.length + 2 + pick(body.length)),
    // Bit flips in the compressed body (as characters of the alphabet).
    () => {
      const chars = body.split('');
      for (let k = 0, m = 1 + pick(4); k < m; k++) chars[pick(chars.length)] = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[pick(64)];
      return `${LINK_PREFIX}1.${chars.join('')}`;
    },
    // Stray characters.
    () => `${LINK_PREFIX}1.${body.slice(0, 20)}%$<>${body.slice(20)}`,
    // Wrong or missing versions.
    () => `${LINK_PREFIX}${[0, 2, 99, -1, 1.5][pick(5)]}.${body}`,
    () => `${LINK_PREFIX}${body}`,
    // A decompression bomb: a few kilobytes that inflate to 64 MB of zeros.
    () => bomb,
    // Oversized link.
    () => oversized,
    // Valid compression, hostile JSON: wrong types, out-of-range positions, lying lengths.
    () => {
      const h = decodedHead();
      const field = ['tokens', 'top', 'targets', 'token', 'head', 'view', 'settings', 'prompt', 'model', 'lens'][pick(10)];
      const values = [null, 1e309, -1, 'x', [], {}, [[1, 2]], 2 ** 53, { scales: [1e308] }];
      h[field] = values[pick(values.length)];
      return container(h, decodeRaw(good).tail);
    },
    () => {
      const h = decodedHead();
      h.targets = 10_000; // claims more targets than the data holds
      return container(h, decodeRaw(good).tail);
    },
    () => {
      const h = decodedHead();
      h.head.H = 1 << 20; // claims far more scores than present
      return container(h, decodeRaw(good).tail);
    },
    () => {
      const h = decodedHead();
      h.view.selected = 99;
      return container(h, decodeRaw(good).tail);
    },
    () => {
      const h = decodedHead();
      h.prompt = '<script>alert(1)</script>'; // shorter prompt: token spans now out of range
      return container(h, decodeRaw(good).tail);
    },
    () => container(decodedHead(), decodeRaw(good).tail.slice(0, pick(200))), // truncated scores
    () => container(decodedHead(), new Uint8Array([...decodeRaw(good).tail, 1, 2, 3])), // trailing data
    () => container(decodedHead(), decodeRaw(good).tail.map(() => 0xff)), // unterminated varints
    () => container('just a string'),
    () => `${LINK_PREFIX}1.${toBase64Url(deflateSync(new Uint8Array([255, 255, 255, 255, 1, 2])))}`,
  ];
  for (let i = 0; i < n; i++) out.push(makers[i % makers.length]());
  return out;
}

function decodeRaw(link: string): { head: Record<string, unknown>; tail: Uint8Array } {
  const c = inflateSync(fromBase64Url(link.slice(LINK_PREFIX.length + 2)));
  const len = new DataView(c.buffer, c.byteOffset).getUint32(0, true);
  return { head: JSON.parse(new TextDecoder().decode(c.subarray(4, 4 + len))), tail: c.slice(4 + len) };
}

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
