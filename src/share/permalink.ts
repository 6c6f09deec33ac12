// Permalinks that need no server: a run (its result, the settings and the view state) packed
// into the URL fragment, which browsers never send anywhere. Layout of the fragment:
//   #run=1.<base64url(deflate(container))>
// container = u32 LE length of the JSON head, the UTF-8 JSON head, then the quantised arrays
// as zigzag varints. Decoding treats the link as hostile: every size is capped before work is
// done, and every field is validated against the token count and the model shape.

import { deflateSync, Inflate } from 'fflate';
import type { DepassResult, Mode, Rule, TopEntry } from '../depass/result';
import { RESULT_FORMAT } from '../depass/result';

export const LINK_VERSION = 1;
export const LINK_PREFIX = '#run=';
/** Fragments longer than this are refused before decoding (a pasted link, not a file). */
export const MAX_LINK_CHARS = 1_000_000;
/** Decompressed bytes allowed; a decompression bomb stops here. */
export const MAX_INFLATED_BYTES = 4 * 1024 * 1024;
const MAX_TOKENS = 8192;
const MAX_LAYERS = 512;
const MAX_HEADS = 1024;
const MAX_NEURONS = 1 << 17;
const MAX_TEXT = 100_000;
/** Scores are stored as integers in [-Q, Q] times a per-row scale: error <= max|row| / (2Q). */
const Q = 127;
/** Logits and rests are stored as integer multiples of this (display shows three decimals). */
const LOGIT_STEP = 1e-3;
const MAX_FIXED = 2 ** 31;

/** What the views show, carried by the link beside the result. */
export interface ViewState {
  selected: number | null;
  /** Names of the open views. */
  views: string[];
  /** Flow graph edge threshold, 0..1 of the largest edge. */
  threshold: number;
  head: { layer: number; head: number } | null;
  /** Layer chosen for the neuron view. */
  layer: number | null;
}

export interface RunSettingsShared {
  modes: Mode[];
  rule: Rule;
  layer?: number;
  target?: number;
  contrast?: number;
  positions?: 'all' | 'last' | number[];
}

export interface SharedRun {
  result: DepassResult;
  settings: RunSettingsShared;
  view: ViewState;
}

export class LinkError extends Error {
  override readonly name = 'LinkError';
}

// ---------------------------------------------------------------------------------------------
// Encoding

class VarintWriter {
  private buf = new Uint8Array(1024);
  private n = 0;
  private ensure(k: number) {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
  /** A quantised score, one raw byte (deflate packs these far better than varints). */
  i8(v: number) {
    this.ensure(1);
    this.buf[this.n++] = v & 0xff;
  }
  f32(v: number) {
    this.ensure(4);
    new DataView(this.buf.buffer).setFloat32(this.n, v, true);
    this.n += 4;
  }
  int(v: number) {
    let z = v < 0 ? -2 * v - 1 : 2 * v; // zigzag
    this.ensure(5);
    while (z >= 0x80) {
      this.buf[this.n++] = (z & 0x7f) | 0x80;
      z = Math.floor(z / 128);
    }
    this.buf[this.n++] = z;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
}

/** One row of scores: its f32 scale, then one signed byte per score in [-Q, Q]. */
function quantRow(w: VarintWriter, row: ArrayLike<number>): void {
  let max = 0;
  for (let i = 0; i < row.length; i++) max = Math.max(max, Math.abs(row[i]));
  const scale = Math.fround(max > 0 ? max / Q : 0);
  w.f32(scale);
  for (let i = 0; i < row.length; i++) w.i8(scale > 0 ? Math.max(-Q, Math.min(Q, Math.round(row[i] / scale))) : 0);
}

interface Head {
  v: number;
  model: DepassResult['model'];
  prompt: string;
  rule: Rule;
  tokens: [number, number, number, string][];
  /** Entries per position in the predictions section (usually 5). */
  top: number;
  targets: number;
  completeness: number;
  settings: RunSettingsShared;
  view: ViewState;
  // Shapes and per-row scales of the quantised sections, in writing order.
  token?: { layers?: number };
  head?: { layers: number[]; H: number };
  neuron?: { layer: number; I: number; group: number };
  module?: { layer: number; names: string[] };
  subspace?: { layer: number; names: string[] };
  /** Layers and entries per layer of the logit lens section. */
  lens?: { L: number; k: number };
}

export function encodeRun(run: SharedRun): string {
  const r = run.result;
  const w = new VarintWriter();
  const fixed = (x: number) => w.int(Math.round(x / LOGIT_STEP));
  const top = r.predictions[0]?.top.length ?? 0;
  const head: Head = {
    v: LINK_VERSION,
    model: r.model,
    prompt: r.prompt,
    rule: r.rule,
    tokens: r.tokens.map((t) => [t.id, t.start, t.end, t.text]),
    top,
    targets: r.targets.length,
    completeness: r.completeness.max_abs_error,
    settings: run.settings,
    view: run.view,
  };
  // Binary sections, in this order: predictions, targets, then each mode present.
  for (const p of r.predictions) for (let k = 0; k < top; k++) (w.int(p.top[k].id), fixed(p.top[k].logit));
  for (const t of r.targets) (w.int(t.position), w.int(t.id), w.int(t.contrast_id ?? -1), fixed(t.logit));
  if (r.token) {
    // Only positions 0..position can be non-zero: store that prefix of each row.
    r.token.scores.forEach((row, i) => quantRow(w, row.slice(0, r.targets[i].position + 1)));
    r.token.rest.forEach(fixed);
    head.token = {};
    if (r.token.by_layer && r.token.rest_by_layer) {
      head.token.layers = r.token.by_layer[0]?.length ?? 0;
      r.token.by_layer.forEach((rows, i) => rows.forEach((row) => quantRow(w, row.slice(0, r.targets[i].position + 1))));
      r.token.rest_by_layer.forEach((row) => row.forEach(fixed));
    }
  }
  if (r.head) {
    const H = r.head.scores[0]?.[0]?.length ?? 0;
    r.head.scores.forEach((perLayer) => quantRow(w, perLayer.flat()));
    r.head.rest.forEach((row) => row.forEach(fixed));
    head.head = { layers: r.head.layers, H };
  }
  if (r.neuron) {
    r.neuron.scores.forEach((row) => quantRow(w, row));
    r.neuron.rest.forEach(fixed);
    head.neuron = { layer: r.neuron.layer, I: r.neuron.scores[0]?.length ?? 0, group: r.neuron.group_size };
  }
  for (const key of ['module', 'subspace'] as const) {
    const m = r[key];
    if (!m) continue;
    m.scores.forEach((row) => row.forEach(fixed));
    head[key] = { layer: m.layer, names: m.names };
  }
  if (r.logit_lens) {
    const L = r.logit_lens[0]?.length ?? 0;
    const k = r.logit_lens[0]?.[0]?.length ?? 0;
    head.lens = { L, k };
    for (const layers of r.logit_lens) for (const entries of layers) for (const e of entries) (w.int(e.id), fixed(e.logit));
  }

  const json = new TextEncoder().encode(JSON.stringify(head));
  const body = w.bytes();
  const container = new Uint8Array(4 + json.length + body.length);
  new DataView(container.buffer).setUint32(0, json.length, true);
  container.set(json, 4);
  container.set(body, 4 + json.length);
  return `${LINK_PREFIX}${LINK_VERSION}.${toBase64Url(deflateSync(container, { level: 9 }))}`;
}

// ---------------------------------------------------------------------------------------------
// Decoding (hostile input)

export function decodeRun(fragment: string): SharedRun {
  if (typeof fragment !== 'string') throw new LinkError('this link is damaged: no run data');
  if (fragment.length > MAX_LINK_CHARS) throw new LinkError(`this link is too long (${fragment.length} characters; at most ${MAX_LINK_CHARS})`);
  const hash = fragment.startsWith('#') ? fragment : `#${fragment}`;
  if (!hash.startsWith(LINK_PREFIX)) throw new LinkError('this link holds no DePass run');
  const rest = hash.slice(LINK_PREFIX.length);
  const dot = rest.indexOf('.');
  const version = dot < 0 ? NaN : Number(rest.slice(0, dot));
  if (!Number.isInteger(version) || version < 1) throw new LinkError('this link is damaged: no version');
  if (version > LINK_VERSION) throw new LinkError(`this link is from a newer version of DePass Studio (format ${version}; this app reads ${LINK_VERSION})`);
  const compressed = fromBase64Url(rest.slice(dot + 1));
  const container = inflateCapped(compressed);
  if (container.length < 4) throw new LinkError('this link is damaged: too short');
  const jsonLen = new DataView(container.buffer, container.byteOffset).getUint32(0, true);
  if (jsonLen > container.length - 4) throw new LinkError('this link is damaged: truncated');
  let headRaw: unknown;
  try {
    headRaw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(container.subarray(4, 4 + jsonLen)));
  } catch {
    throw new LinkError('this link is damaged: unreadable data');
  }
  const reader = new VarintReader(container.subarray(4 + jsonLen));
  try {
    const run = rebuild(headRaw, reader);
    if (reader.remaining() !== 0) throw new LinkError('this link is damaged: trailing data');
    return run;
  } catch (err) {
    if (err instanceof LinkError) throw err;
    throw new LinkError('this link is damaged');
  }
}

function inflateCapped(data: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  const inflater = new Inflate((chunk, final) => {
    total += chunk.length;
    if (total > MAX_INFLATED_BYTES) throw new LinkError('this link is damaged: it expands beyond the allowed size');
    chunks.push(chunk);
    if (final) ended = true;
  });
  try {
    const step = 4096;
    for (let i = 0; i < data.length; i += step) inflater.push(data.subarray(i, i + step), i + step >= data.length);
    if (data.length === 0) inflater.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof LinkError) throw err;
    throw new LinkError('this link is damaged: it does not decompress');
  }
  if (!ended) throw new LinkError('this link is damaged: truncated');
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

class VarintReader {
  private i = 0;
  constructor(private readonly b: Uint8Array) {}
  /** A zigzag varint of at most 5 bytes, within [-bound, bound]. */
  int(bound = MAX_FIXED): number {
    let z = 0;
    let mul = 1;
    for (let k = 0; k < 5; k++) {
      if (this.i >= this.b.length) throw new LinkError('this link is damaged: truncated data');
      const byte = this.b[this.i++];
      z += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        const v = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        if (Math.abs(v) > bound) throw new LinkError('this link is damaged: number out of range');
        return v;
      }
      mul *= 128;
    }
    throw new LinkError('this link is damaged: bad number');
  }
  fixed(): number {
    return Number((this.int() * LOGIT_STEP).toFixed(3));
  }
  /** A quantised row: f32 scale, then n signed bytes. */
  row(n: number): number[] {
    if (this.i + 4 + n > this.b.length) throw new LinkError('this link is damaged: truncated scores');
    const scale = new DataView(this.b.buffer, this.b.byteOffset).getFloat32(this.i, true);
    this.i += 4;
    if (!Number.isFinite(scale) || scale < 0) throw new LinkError('this link is damaged: bad score scale');
    const out = new Array<number>(n);
    for (let k = 0; k < n; k++) {
      const q = (this.b[this.i++] << 24) >> 24;
      if (q < -Q) throw new LinkError('this link is damaged: score out of range');
      out[k] = q * scale;
    }
    return out;
  }
  remaining(): number {
    return this.b.length - this.i;
  }
  done(): boolean {
    return this.i === this.b.length;
  }
}

// Small validators: each names what is wrong, in the user's terms.
const bad = (what: string): never => {
  throw new LinkError(`this link is damaged: ${what}`);
};
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
function int(v: unknown, what: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) bad(what);
  return v as number;
}
function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(what);
  return v as number;
}
function str(v: unknown, what: string, max = MAX_TEXT): string {
  if (typeof v !== 'string' || v.length > max) bad(what);
  return v as string;
}
function arr(v: unknown, what: string, len?: number, max = MAX_NEURONS * 4): unknown[] {
  if (!Array.isArray(v) || v.length > max || (len !== undefined && v.length !== len)) bad(what);
  return v as unknown[];
}

const MODES: Mode[] = ['token', 'head', 'neuron', 'module', 'subspace'];
const VIEWS = new Set(['tokens', 'prediction', 'heads', 'flow', 'layers', 'neurons', 'lens']);

function rebuild(raw: unknown, r: VarintReader): SharedRun {
  if (!isObj(raw)) bad('no run header');
  const h = raw as Record<string, unknown>;
  if (h.v !== LINK_VERSION) bad('version mismatch');
  const model = isObj(h.model) ? h.model : bad('model');
  const prompt = str(h.prompt, 'prompt');
  const rule = h.rule === 'softmax' || h.rule === 'proportional' ? h.rule : bad('rule');

  const tokensRaw = arr(h.tokens, 'tokens', undefined, MAX_TOKENS);
  const T = tokensRaw.length;
  if (T === 0) bad('no tokens');
  const vocabBound = 1 << 24;
  const tokens = tokensRaw.map((t, i) => {
    const a = arr(t, `token ${i}`, 4);
    const start = int(a[1], `token ${i} start`, 0, prompt.length);
    const end = int(a[2], `token ${i} end`, start, prompt.length);
    return { id: int(a[0], `token ${i} id`, 0, vocabBound), start, end, text: str(a[3], `token ${i} text`, 1000) };
  });
  // Every count below is checked against what the binary part can hold before any array is made.
  const need = (n: number, what: string) => {
    if (n > r.remaining()) bad(`${what} cut short`);
  };
  const top = int(h.top, 'prediction count', 0, 64);
  need(T * top * 2, 'predictions');
  const id = (what: string) => {
    const v = r.int();
    if (v < 0 || v > vocabBound) bad(what);
    return v;
  };
  const predictions = Array.from({ length: T }, () => ({
    top: Array.from({ length: top }, (): TopEntry => ({ id: id('prediction id'), logit: r.fixed() })),
  }));
  const N = int(h.targets, 'target count', 1, MAX_TOKENS);
  need(N * 4, 'targets');
  const targets = Array.from({ length: N }, () => {
    const position = r.int();
    if (position < 0 || position >= T) bad('target position');
    const tid = id('target id');
    const contrast = r.int();
    if (contrast < -1 || contrast > vocabBound) bad('contrast id');
    return { position, id: tid, contrast_id: contrast < 0 ? null : contrast, logit: r.fixed() };
  });

  const result: DepassResult = {
    format: RESULT_FORMAT,
    model: {
      name: str(model.name, 'model name', 500),
      architecture: str(model.architecture, 'model architecture', 50),
      fingerprint: str(model.fingerprint, 'model fingerprint', 200),
    },
    prompt,
    rule,
    tokens,
    predictions,
    targets,
    completeness: { max_abs_error: num(h.completeness, 'completeness') },
  };
  const padded = (row: number[]) => {
    while (row.length < T) row.push(0);
    return row;
  };

  if (h.token !== undefined) {
    const tk = isObj(h.token) ? h.token : bad('token section');
    need(targets.reduce((a, tg) => a + tg.position + 1, 0), 'token scores');
    const scores = targets.map((tg) => padded(r.row(tg.position + 1)));
    result.token = { scores, rest: targets.map(() => r.fixed()) };
    if (tk.layers !== undefined) {
      const L = int(tk.layers, 'token layers', 1, MAX_LAYERS);
      need(L * targets.reduce((a, tg) => a + tg.position + 1, 0), 'token layer scores');
      result.token.by_layer = targets.map((tg) => Array.from({ length: L }, () => padded(r.row(tg.position + 1))));
      result.token.rest_by_layer = targets.map(() => Array.from({ length: L }, () => r.fixed()));
    }
  }
  if (h.head !== undefined) {
    const hd = isObj(h.head) ? h.head : bad('head section');
    const layers = arr(hd.layers, 'head layers', undefined, MAX_LAYERS).map((l) => int(l, 'head layer', 0, MAX_LAYERS - 1));
    const H = int(hd.H, 'head count', 1, MAX_HEADS);
    need(N * layers.length * H, 'head scores');
    const scores = targets.map(() => {
      const flat = r.row(layers.length * H);
      return layers.map((_, k) => flat.slice(k * H, (k + 1) * H));
    });
    const rest = targets.map(() => layers.map(() => r.fixed()));
    result.head = { scores, rest, layers };
  }
  if (h.neuron !== undefined) {
    const nr = isObj(h.neuron) ? h.neuron : bad('neuron section');
    const I = int(nr.I, 'neuron count', 1, MAX_NEURONS);
    need(N * I, 'neuron scores');
    result.neuron = {
      layer: int(nr.layer, 'neuron layer', 0, MAX_LAYERS - 1),
      group_size: int(nr.group, 'neuron group', 1, MAX_NEURONS),
      scores: targets.map(() => r.row(I)),
      rest: targets.map(() => r.fixed()),
    };
  }
  for (const key of ['module', 'subspace'] as const) {
    if (h[key] === undefined) continue;
    const s = isObj(h[key]) ? (h[key] as Record<string, unknown>) : bad(`${key} section`);
    const names = arr(s.names, `${key} names`, undefined, 16).map((n) => str(n, `${key} name`, 50));
    need(N * names.length, `${key} scores`);
    result[key] = {
      layer: int(s.layer, `${key} layer`, 0, MAX_LAYERS - 1),
      names,
      scores: targets.map(() => names.map(() => r.fixed())),
    };
  }
  if (h.lens !== undefined) {
    const ln = isObj(h.lens) ? h.lens : bad('logit lens');
    const L = int(ln.L, 'logit lens layers', 1, MAX_LAYERS);
    const k = int(ln.k, 'logit lens entries', 1, 64);
    need(T * L * k * 2, 'logit lens');
    result.logit_lens = Array.from({ length: T }, () =>
      Array.from({ length: L }, () => Array.from({ length: k }, (): TopEntry => ({ id: id('logit lens id'), logit: r.fixed() }))),
    );
  }
  return { result, settings: settingsOf(h.settings, T), view: viewOf(h.view, T) };
}

function settingsOf(raw: unknown, T: number): RunSettingsShared {
  const s = isObj(raw) ? raw : bad('settings');
  const modes = arr(s.modes, 'modes', undefined, 5).map((m) => (MODES.includes(m as Mode) ? (m as Mode) : bad('mode')));
  const out: RunSettingsShared = { modes, rule: s.rule === 'proportional' ? 'proportional' : s.rule === 'softmax' ? 'softmax' : bad('rule') };
  if (s.layer !== undefined) out.layer = int(s.layer, 'layer', 0, MAX_LAYERS - 1);
  if (s.target !== undefined) out.target = int(s.target, 'target', 0, 1 << 24);
  if (s.contrast !== undefined) out.contrast = int(s.contrast, 'contrast', 0, 1 << 24);
  if (s.positions !== undefined) {
    out.positions =
      s.positions === 'all' || s.positions === 'last'
        ? s.positions
        : arr(s.positions, 'positions', undefined, MAX_TOKENS).map((p) => int(p, 'position', 0, T - 1));
  }
  return out;
}

function viewOf(raw: unknown, T: number): ViewState {
  const v = isObj(raw) ? raw : bad('view');
  const views = arr(v.views, 'views', undefined, 16).map((n) => (typeof n === 'string' && VIEWS.has(n) ? n : bad('view name')));
  let head: ViewState['head'] = null;
  if (v.head !== null && v.head !== undefined) {
    const hd = isObj(v.head) ? v.head : bad('chosen head');
    head = { layer: int(hd.layer, 'chosen head layer', 0, MAX_LAYERS - 1), head: int(hd.head, 'chosen head', 0, MAX_HEADS - 1) };
  }
  const threshold = num(v.threshold, 'threshold');
  if (threshold < 0 || threshold > 1) bad('threshold');
  return {
    selected: v.selected === null ? null : int(v.selected, 'selected position', 0, T - 1),
    views,
    threshold,
    head,
    layer: v.layer === null || v.layer === undefined ? null : int(v.layer, 'layer', 0, MAX_LAYERS - 1),
  };
}

// ---------------------------------------------------------------------------------------------
// base64url without padding (the fragment must survive copy and paste untouched).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[ALPHABET.charCodeAt(i)] = i;
  return t;
})();

export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
    if (i + 1 < bytes.length) out += ALPHABET[(n >> 6) & 63];
    if (i + 2 < bytes.length) out += ALPHABET[n & 63];
  }
  return out;
}

export function fromBase64Url(s: string): Uint8Array {
  if (s.length % 4 === 1) throw new LinkError('this link is damaged: cut short');
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    const k = Math.min(4, s.length - i);
    for (let j = 0; j < 4; j++) {
      const c = j < k ? s.charCodeAt(i + j) : 65; // 'A' pads
      const v = c < 128 ? LOOKUP[c] : -1;
      if (v < 0) throw new LinkError('this link is damaged: stray characters');
      n = n * 64 + v;
    }
    out[o++] = (n >> 16) & 255;
    if (k > 2) out[o++] = (n >> 8) & 255;
    if (k > 3) out[o++] = n & 255;
  }
  return out.subarray(0, o);
}
