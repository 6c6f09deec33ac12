// Test inputs for permalinks, shared by the permalink tests and the fuzz suites: a real run to
// encode (DePass on a seeded random model of stories260K's shape) and a corpus of damaged and
// hostile links built from it. Not used by the app.

import { deflateSync, inflateSync } from 'fflate';
import { CpuBackend } from '../../depass/cpu-backend';
import { toReferenceModel } from '../../depass/reference-model';
import { runDepass } from '../../depass/run';
import { randomModel, seededRandom } from '../../model/testing/random-model';
import { fromBase64Url, toBase64Url } from '../permalink/base64url';
import { encodeRun } from '../permalink/encode';
import { LINK_PREFIX, LINK_VERSION, type SharedRun } from '../permalink/format';

const V = `${LINK_VERSION}.`;

export interface SampleOptions {
  /** Add a target re-run at position T-2: the second prediction against the first. */
  override?: boolean;
}

/** A DePass run over T pseudo-words, with view state, model shape and vocabulary, ready to encode. */
export async function sampleRun(
  T: number,
  modes: ('token' | 'head' | 'neuron' | 'module')[] = ['token', 'head'],
  detail = false,
  options: SampleOptions = {},
): Promise<SharedRun> {
  // stories260K's shape: 5 layers, D=64, 8 heads, 4 KV heads, I=172, V=512.
  const { description, weights } = randomModel({
    family: 'llama',
    vocab_size: 512,
    hidden_size: 64,
    num_hidden_layers: 5,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    intermediate_size: 172,
    max_position_embeddings: 512,
    seed: 3,
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
  const backend = new CpuBackend(toReferenceModel(description, weights));
  const input = { model: { name: 'stories-shaped', fingerprint: 'sha256:0123', description }, prompt, tokens, bosAtZero: false };
  const result = await runDepass(backend, input, { modes, layerDetail: detail, layer: 2 });
  const run: SharedRun = {
    result,
    settings: { modes, rule: 'softmax', layerDetail: detail },
    view: {
      selected: T - 1,
      views: ['tokens', 'heads', 'flow'],
      threshold: 0.2,
      head: { layer: 1, head: 3 },
      layer: 2,
      neuron: modes.includes('neuron') ? 7 : null,
    },
    shape: { layers: 5, vocab_size: 512 },
  };
  if (options.override && T >= 2) {
    const position = T - 2;
    const [first, second] = result.predictions[position].top;
    const o = await runDepass(backend, input, { modes, layerDetail: detail, layer: 2, positions: [position], target: second.id, contrast: first.id });
    run.override = { position, target: second.id, contrast: first.id, result: o };
  }
  // Texts of every id the run names, as the app takes them from the loaded vocabulary.
  const named = new Set<number>();
  for (const p of result.predictions) for (const e of p.top) named.add(e.id);
  for (const t of [...result.targets, ...(run.override?.result.targets ?? [])]) {
    named.add(t.id);
    if (t.contrast_id !== null) named.add(t.contrast_id);
  }
  for (const layers of result.logit_lens ?? []) for (const entries of layers) for (const e of entries) named.add(e.id);
  run.vocab = [...named].sort((a, b) => a - b).map((id) => [id, `w${id}`]);
  return run;
}

/** Builds n hostile links from a valid one: every one must end in a LinkError, each fast. */
export async function hostileLinks(n: number, seed = 1): Promise<string[]> {
  const good = encodeRun(await sampleRun(16, ['token', 'head', 'module'], true, { override: true }));
  const body = good.slice(LINK_PREFIX.length + 2);
  const rnd = seededRandom(seed);
  // The costly hostile inputs are built once and repeated.
  const bomb = `${LINK_PREFIX}${V}${toBase64Url(deflateSync(new Uint8Array(64 * 1024 * 1024), { level: 9 }))}`;
  const oversized = `${LINK_PREFIX}${V}${'A'.repeat(1_000_001)}`;
  const pick = (k: number) => Math.floor(rnd() * k);
  const container = (head: unknown, tail: Uint8Array = new Uint8Array(0)) => {
    const json = new TextEncoder().encode(JSON.stringify(head));
    const c = new Uint8Array(4 + json.length + tail.length);
    new DataView(c.buffer).setUint32(0, json.length, true);
    c.set(json, 4);
    c.set(tail, 4 + json.length);
    return `${LINK_PREFIX}${V}${toBase64Url(deflateSync(c))}`;
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
      return `${LINK_PREFIX}${V}${chars.join('')}`;
    },
    // Stray characters.
    () => `${LINK_PREFIX}${V}${body.slice(0, 20)}%$<>${body.slice(20)}`,
    // Wrong or missing versions.
    () => `${LINK_PREFIX}${[0, LINK_VERSION + 1, 99, -1, 1.5][pick(5)]}.${body}`,
    () => `${LINK_PREFIX}${body}`,
    // A decompression bomb: a few kilobytes that inflate to 64 MB of zeros.
    () => bomb,
    // Oversized link.
    () => oversized,
    // Valid compression, hostile JSON: wrong types, out-of-range positions, lying lengths.
    () => {
      const h = decodedHead();
      const field = ['tokens', 'top', 'targets', 'token', 'head', 'view', 'settings', 'prompt', 'model', 'lens'][pick(10)];
      const values = [null, Infinity /* what JSON's 1e309 parses to */, -1, 'x', [], {}, [[1, 2]], 2 ** 53, { scales: [1e308] }];
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
    () =>
      container(
        decodedHead(),
        decodeRaw(good).tail.map(() => 0xff),
      ), // unterminated varints
    () => {
      const h = decodedHead();
      h.shape = { layers: 2, vocab_size: 512 }; // fewer layers than the sections use
      return container(h, decodeRaw(good).tail);
    },
    () => {
      const h = decodedHead();
      const bad = [[[-5, 'x']], [[1 << 25, 'x']], ['no'], [[1]], [[1, 'x'.repeat(2000)]], {}, [[2.5, 'x']]];
      h.vocab = bad[pick(bad.length)];
      return container(h, decodeRaw(good).tail);
    },
    () => {
      const h = decodedHead();
      h.override = { position: [0, 99, -1][pick(3)], target: 3, contrast: null, targets: [1, 5000][pick(2)], completeness: 0, token: {} };
      return container(h, decodeRaw(good).tail);
    },
    () => {
      const h = decodedHead();
      h.tokens = (h.tokens as unknown[][]).map((t) => t.slice(0, 2 + pick(3))); // spans without ends, texts without spans
      return container(h, decodeRaw(good).tail);
    },
    () => {
      const h = decodedHead();
      h.targets = ['predictions', 'all', 0][pick(3)];
      h.top = pick(2) ? 0 : 5;
      return container(h, decodeRaw(good).tail);
    },
    () => {
      const h = decodedHead();
      (h.token as Record<string, unknown>).final = [1, 'yes', false][pick(3)];
      (h.lens as Record<string, unknown>).final = [true, 1][pick(2)];
      (h.lens as Record<string, unknown>).k = pick(8);
      return container(h, decodeRaw(good).tail);
    },
    () => container('just a string'),
    () => `${LINK_PREFIX}${V}${toBase64Url(deflateSync(new Uint8Array([255, 255, 255, 255, 1, 2])))}`,
  ];
  for (let i = 0; i < n; i++) out.push(makers[i % makers.length]());
  return out;
}

/** The JSON head and binary tail of a well-formed link (no validation: for building variants). */
export function decodeRaw(link: string): { head: Record<string, unknown>; tail: Uint8Array } {
  const c = inflateSync(fromBase64Url(link.slice(LINK_PREFIX.length + 2)));
  const len = new DataView(c.buffer, c.byteOffset).getUint32(0, true);
  return { head: JSON.parse(new TextDecoder().decode(c.subarray(4, 4 + len))), tail: c.slice(4 + len) };
}
