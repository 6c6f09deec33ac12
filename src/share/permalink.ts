// Permalinks that need no server: a run (its result, the settings and the view state) packed
// into the URL fragment, which browsers never send anywhere. Not the UI (share-ui, links) and
// not storage of models (remembered.ts). Layout of the fragment:
//   #run=<version>.<base64url(deflate(container))>
// container = u32 LE length of the JSON head, the UTF-8 JSON head, then the quantised arrays
// as zigzag varints and signed bytes. Decoding treats the link as hostile: every size is capped
// before work is done, and every field is validated against the token count and the model shape.
// Version 2 (written now) stores logits as deltas and rests so that the decoded scores still add
// up to the logit (the rest takes the scores' rounding), and skips what the forward pass already
// gives (targets that are the predictions, the last layer of the per-layer read-outs); version 1
// links still decode. docs/permalinks.md has the details.

import { deflateSync, Inflate } from 'fflate';
import type { DepassResult, Mode, ResultTarget, Rule, TopEntry } from '../depass/result';
import { RESULT_FORMAT } from '../depass/result';

export const LINK_VERSION = 2;
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
const MAX_VOCAB_ID = 1 << 24;
/** Token texts carried for the ids a run names (predictions, targets, logit lens). */
const MAX_VOCAB_ENTRIES = 1 << 16;
const MAX_TOKEN_TEXT = 1000;
/** Scores are stored as integers in [-Q, Q] times a per-row scale: error <= max|row| / (2Q). */
const Q = 127;
/** Logits and rests are stored as integer multiples of this (display shows three decimals). */
const LOGIT_STEP = 1e-3;
/** Version 2 rests: the original completeness residual, in these units. */
const REST_STEP = 1e-6;
const MAX_FIXED = 2 ** 31;
/** No score is larger than this (in logits); a row scale implying more is damage. */
const MAX_SCORE = 1e6;

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
  /** Pinned neuron of the neuron view (version 2). */
  neuron?: number | null;
}

export interface RunSettingsShared {
  modes: Mode[];
  rule: Rule;
  layer?: number;
  target?: number;
  contrast?: number;
  positions?: 'all' | 'last' | number[];
  /** Per-layer read-out and logit lens were asked for (version 2). */
  layerDetail?: boolean;
}

/** A target re-run at one position: another token, or a contrast between two (version 2). */
export interface SharedOverride {
  position: number;
  target: number;
  contrast: number | null;
  /** Shares prompt, tokens, predictions and logit lens with the main result. */
  result: DepassResult;
}

export interface SharedRun {
  result: DepassResult;
  settings: RunSettingsShared;
  view: ViewState;
  /** What the views need of the model when it is not loaded (version 2). */
  shape?: { layers: number; vocab_size: number };
  /** Display text of the token ids the run names, [id, text] sorted by id (version 2). */
  vocab?: [number, string][];
  override?: SharedOverride;
}

export class LinkError extends Error {
  override readonly name = 'LinkError';
}

// ---------------------------------------------------------------------------------------------
// Numbers both sides must compute identically (rests are coded against them).

const units = (x: number) => Math.round(x / LOGIT_STEP);
const fromUnits = (u: number) => Number((u * LOGIT_STEP).toFixed(3));
/** The scale a row is stored with: f32, so encoder and decoder multiply by the same number. */
const rowScale = (row: ArrayLike<number>) => {
  let max = 0;
  for (let i = 0; i < row.length; i++) max = Math.max(max, Math.abs(row[i]));
  return Math.fround(max > 0 ? max / Q : 0);
};
const quant = (v: number, scale: number) => (scale > 0 ? Math.max(-Q, Math.min(Q, Math.round(v / scale))) : 0);

const sumOf = (row: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < row.length; i++) s += row[i];
  return s;
};

// ---------------------------------------------------------------------------------------------
// Encoding

class ByteWriter {
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
  fixed(x: number) {
    this.int(units(x));
  }
  /** One row of scores: its f32 scale, then one signed byte per score. */
  row(row: ArrayLike<number>): void {
    const scale = rowScale(row);
    this.f32(scale);
    for (let i = 0; i < row.length; i++) this.i8(quant(row[i], scale));
  }
  /**
   * A rest, as the run's own completeness residual (Σ scores + rest − logit, against the logit
   * as stored): the decoder adds it to logit − Σ(decoded scores).
   */
  rest(rest: number, logit: number, scores: ArrayLike<number>) {
    // Clamped to what the decoder accepts: only a run far from complete could reach it.
    const r = Math.round((rest + sumOf(scores) - fromUnits(units(logit))) / REST_STEP);
    this.int(Math.max(-MAX_FIXED, Math.min(MAX_FIXED, Number.isFinite(r) ? r : 0)));
  }
  /** Top-k entries: ids, the first logit, then each drop from the one before (small, positive). */
  top(entries: TopEntry[]) {
    let prev = 0;
    entries.forEach((e, k) => {
      const u = units(e.logit);
      this.int(e.id);
      this.int(k === 0 ? u : prev - u);
      prev = u;
    });
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
}

/** Section shapes in the JSON head, in writing order. */
interface SectionsHead {
  /** `layers`: per-layer read-outs present; `final`: their last layer is the final scores, not stored. */
  token?: { layers?: number; final?: true };
  head?: { layers: number[]; H: number };
  neuron?: { layer: number; I: number; group: number };
  module?: { layer: number; names: string[] };
  subspace?: { layer: number; names: string[] };
}

interface Head extends SectionsHead {
  v: number;
  model: DepassResult['model'];
  shape?: SharedRun['shape'];
  prompt: string;
  rule: Rule;
  /** [id, start, end] where the text is the prompt's own slice, else [id, start, end, text]. */
  tokens: ([number, number, number] | [number, number, number, string])[];
  /** Entries per position in the predictions section (usually 5). */
  top: number;
  /** A count, or 'predictions': one target per position, each the model's own top token. */
  targets: number | 'predictions';
  completeness: number;
  settings: RunSettingsShared;
  view: ViewState;
  vocab?: [number, string][];
  /** Layers and entries per layer of the logit lens; `final`: the last layer is the predictions. */
  lens?: { L: number; k: number; final?: true };
  override?: SectionsHead & { position: number; target: number; contrast: number | null; targets: number; completeness: number };
}

const sameTop = (a: TopEntry[], b: TopEntry[]) => a.length === b.length && a.every((e, k) => e.id === b[k].id && units(e.logit) === units(b[k].logit));

function writeTargets(w: ByteWriter, targets: ResultTarget[]) {
  for (const t of targets) {
    w.int(t.position);
    w.int(t.id);
    w.int(t.contrast_id ?? -1);
    w.fixed(t.logit);
  }
}

/** Writes the score sections of `r` (main result or a re-run) and says their shapes. */
function writeSections(w: ByteWriter, r: DepassResult): SectionsHead {
  const meta: SectionsHead = {};
  const logits = r.targets.map((t) => t.logit);
  if (r.token) {
    const tk = r.token;
    // Only positions 0..position can be non-zero: store that prefix of each row.
    tk.scores.forEach((row, i) => w.row(row.slice(0, r.targets[i].position + 1)));
    tk.rest.forEach((v, i) => w.rest(v, logits[i], tk.scores[i]));
    meta.token = {};
    if (tk.by_layer && tk.rest_by_layer) {
      const L = tk.by_layer[0]?.length ?? 0;
      meta.token.layers = L;
      // The read-out after the last layer is the final scores in every run the engine makes.
      const final = L > 0 && tk.by_layer.every((rows, i) => rows[L - 1].every((v, s) => v === tk.scores[i][s]) && tk.rest_by_layer![i][L - 1] === tk.rest[i]);
      if (final) meta.token.final = true;
      const stored = final ? L - 1 : L;
      tk.by_layer.forEach((rows, i) => rows.slice(0, stored).forEach((row) => w.row(row.slice(0, r.targets[i].position + 1))));
      tk.rest_by_layer.forEach((row) => row.slice(0, stored).forEach((v) => w.fixed(v)));
    }
  }
  if (r.head) {
    const hd = r.head;
    const H = hd.scores[0]?.[0]?.length ?? 0;
    // One row per target over all layers; each layer's heads and rest sum to the target logit.
    hd.scores.forEach((perLayer, i) => {
      w.row(perLayer.flat());
      hd.rest[i].forEach((v, n) => w.rest(v, logits[i], perLayer[n]));
    });
    meta.head = { layers: hd.layers, H };
  }
  if (r.neuron) {
    r.neuron.scores.forEach((row) => w.row(row));
    r.neuron.rest.forEach((v, i) => w.rest(v, logits[i], r.neuron!.scores[i]));
    meta.neuron = { layer: r.neuron.layer, I: r.neuron.scores[0]?.length ?? 0, group: r.neuron.group_size };
  }
  for (const key of ['module', 'subspace'] as const) {
    const m = r[key];
    if (!m) continue;
    m.scores.forEach((row) => row.forEach((v) => w.fixed(v)));
    meta[key] = { layer: m.layer, names: m.names };
  }
  return meta;
}

export function encodeRun(run: SharedRun): string {
  const r = run.result;
  const w = new ByteWriter();
  const top = r.predictions[0]?.top.length ?? 0;
  const T = r.tokens.length;
  const targetsArePredictions =
    r.targets.length === T &&
    r.targets.every(
      (t, i) => t.position === i && t.contrast_id === null && r.predictions[i].top[0]?.id === t.id && units(r.predictions[i].top[0].logit) === units(t.logit),
    );
  const head: Head = {
    v: LINK_VERSION,
    model: r.model,
    ...(run.shape ? { shape: run.shape } : {}),
    prompt: r.prompt,
    rule: r.rule,
    tokens: r.tokens.map((t) => (r.prompt.slice(t.start, t.end) === t.text ? [t.id, t.start, t.end] : [t.id, t.start, t.end, t.text])),
    top,
    targets: targetsArePredictions ? 'predictions' : r.targets.length,
    completeness: r.completeness.max_abs_error,
    settings: run.settings,
    view: run.view,
    ...(run.vocab ? { vocab: run.vocab } : {}),
  };
  // Binary sections, in this order: predictions, targets, each mode present, logit lens, re-run.
  for (const p of r.predictions) w.top(p.top.slice(0, top));
  if (!targetsArePredictions) writeTargets(w, r.targets);
  Object.assign(head, writeSections(w, r));
  if (r.logit_lens) {
    const L = r.logit_lens[0]?.length ?? 0;
    const k = r.logit_lens[0]?.[0]?.length ?? 0;
    const final = L > 0 && k === top && r.logit_lens.every((layers, t) => sameTop(layers[L - 1], r.predictions[t].top));
    head.lens = { L, k, ...(final ? { final: true as const } : {}) };
    for (const layers of r.logit_lens) for (const entries of layers.slice(0, final ? L - 1 : L)) w.top(entries);
  }
  const o = run.override;
  if (o && o.result.prompt === r.prompt) {
    writeTargets(w, o.result.targets);
    head.override = {
      position: o.position,
      target: o.target,
      contrast: o.contrast,
      targets: o.result.targets.length,
      completeness: o.result.completeness.max_abs_error,
      ...writeSections(w, o.result),
    };
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

/** The fragment's format version, or null when it holds no run; nothing is decoded. */
export function linkVersion(fragment: string): number | null {
  if (typeof fragment !== 'string' || !fragment.startsWith(LINK_PREFIX)) return null;
  const m = /^(\d{1,6})\./.exec(fragment.slice(LINK_PREFIX.length, LINK_PREFIX.length + 8));
  return m ? Number(m[1]) : null;
}

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
  const reader = new ByteReader(container.subarray(4 + jsonLen));
  try {
    const run = rebuild(headRaw, reader, version);
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

class ByteReader {
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
    return fromUnits(this.int());
  }
  /** A quantised row: f32 scale, then n signed bytes; also Σ as the encoder computed it. */
  row(n: number): { values: number[]; sum: number } {
    if (this.i + 4 + n > this.b.length) throw new LinkError('this link is damaged: truncated scores');
    const scale = new DataView(this.b.buffer, this.b.byteOffset).getFloat32(this.i, true);
    this.i += 4;
    if (!Number.isFinite(scale) || scale < 0 || scale > MAX_SCORE / Q) throw new LinkError('this link is damaged: bad score scale');
    const values = new Array<number>(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const q = (this.b[this.i++] << 24) >> 24;
      if (q < -Q) throw new LinkError('this link is damaged: score out of range');
      values[k] = q * scale;
      sum += values[k];
    }
    return { values, sum };
  }
  /** Version 2 rests: logit − Σ decoded scores + the run's own completeness residual. */
  rest(logit: number, sum: number): number {
    const v = logit - sum + this.int() * REST_STEP;
    if (!Number.isFinite(v)) throw new LinkError('this link is damaged: bad rest');
    return v;
  }
  remaining(): number {
    return this.b.length - this.i;
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
const VIEWS = new Set(['tokens', 'prediction', 'heads', 'flow', 'layers', 'neurons', 'modules', 'lens', 'ablation']);

type Need = (n: number, what: string) => void;
type Sections = Pick<DepassResult, 'token' | 'head' | 'neuron' | 'module' | 'subspace'>;

function readTargets(r: ByteReader, need: Need, N: number, T: number): ResultTarget[] {
  need(N * 4, 'targets');
  return Array.from({ length: N }, () => {
    const position = r.int();
    if (position < 0 || position >= T) bad('target position');
    const tid = r.int();
    if (tid < 0 || tid > MAX_VOCAB_ID) bad('target id');
    const contrast = r.int();
    if (contrast < -1 || contrast > MAX_VOCAB_ID) bad('contrast id');
    return { position, id: tid, contrast_id: contrast < 0 ? null : contrast, logit: r.fixed() };
  });
}

/** The score sections of one result (the main run or a re-run), in the order they were written. */
function readSections(h: Record<string, unknown>, r: ByteReader, need: Need, targets: ResultTarget[], T: number, v: number, maxLayers: number): Sections {
  const out: Sections = {};
  const N = targets.length;
  const logits = targets.map((t) => t.logit);
  const padded = (row: number[]) => {
    while (row.length < T) row.push(0);
    return row;
  };
  const restOf = (i: number, sum: number) => (v >= 2 ? r.rest(logits[i], sum) : r.fixed());
  const prefix = targets.reduce((a, tg) => a + tg.position + 1, 0);

  if (h.token !== undefined) {
    const tk = isObj(h.token) ? h.token : bad('token section');
    need(prefix, 'token scores');
    const rows = targets.map((tg) => r.row(tg.position + 1));
    const scores = rows.map((x) => padded(x.values));
    out.token = { scores, rest: rows.map((x, i) => restOf(i, x.sum)) };
    if (tk.layers !== undefined) {
      const L = int(tk.layers, 'token layers', 1, maxLayers);
      const final = tk.final === undefined ? false : tk.final === true ? true : bad('token layers');
      const stored = final ? L - 1 : L;
      need(stored * prefix, 'token layer scores');
      const byLayer = targets.map((tg) => Array.from({ length: stored }, () => padded(r.row(tg.position + 1).values)));
      const restBy = targets.map(() => Array.from({ length: stored }, () => r.fixed()));
      if (final) targets.forEach((_, i) => (byLayer[i].push(scores[i].slice()), restBy[i].push(out.token!.rest[i])));
      out.token.by_layer = byLayer;
      out.token.rest_by_layer = restBy;
    }
  }
  if (h.head !== undefined) {
    const hd = isObj(h.head) ? h.head : bad('head section');
    const layers = arr(hd.layers, 'head layers', undefined, maxLayers).map((l) => int(l, 'head layer', 0, maxLayers - 1));
    const H = int(hd.H, 'head count', 1, MAX_HEADS);
    need(N * layers.length * H, 'head scores');
    const scores: number[][][] = [];
    const rest: number[][] = [];
    targets.forEach((_, i) => {
      const flat = r.row(layers.length * H).values;
      const perLayer = layers.map((_, k) => flat.slice(k * H, (k + 1) * H));
      scores.push(perLayer);
      // Sums per layer in index order, as the encoder formed them.
      rest.push(
        perLayer.map((row) =>
          v >= 2
            ? r.rest(
                logits[i],
                row.reduce((a, x) => a + x, 0),
              )
            : 0,
        ),
      );
    });
    if (v < 2) for (const row of rest) for (let k = 0; k < row.length; k++) row[k] = r.fixed();
    out.head = { scores, rest, layers };
  }
  if (h.neuron !== undefined) {
    const nr = isObj(h.neuron) ? h.neuron : bad('neuron section');
    const I = int(nr.I, 'neuron count', 1, MAX_NEURONS);
    need(N * I, 'neuron scores');
    const layer = int(nr.layer, 'neuron layer', 0, maxLayers - 1);
    const group = int(nr.group, 'neuron group', 1, MAX_NEURONS);
    const rows = targets.map(() => r.row(I));
    out.neuron = { layer, group_size: group, scores: rows.map((x) => x.values), rest: rows.map((x, i) => restOf(i, x.sum)) };
  }
  for (const key of ['module', 'subspace'] as const) {
    if (h[key] === undefined) continue;
    const s = isObj(h[key]) ? (h[key] as Record<string, unknown>) : bad(`${key} section`);
    const names = arr(s.names, `${key} names`, undefined, 16).map((n) => str(n, `${key} name`, 50));
    need(N * names.length, `${key} scores`);
    out[key] = {
      layer: int(s.layer, `${key} layer`, 0, maxLayers - 1),
      names,
      scores: targets.map(() => names.map(() => r.fixed())),
    };
  }
  return out;
}

function rebuild(raw: unknown, r: ByteReader, version: number): SharedRun {
  if (!isObj(raw)) bad('no run header');
  const h = raw as Record<string, unknown>;
  if (h.v !== version) bad('version mismatch');
  const v = version;
  const model = isObj(h.model) ? h.model : bad('model');
  const prompt = str(h.prompt, 'prompt');
  const rule = h.rule === 'softmax' || h.rule === 'proportional' ? h.rule : bad('rule');
  let shape: SharedRun['shape'];
  if (h.shape !== undefined) {
    const s = isObj(h.shape) ? h.shape : bad('model shape');
    shape = { layers: int(s.layers, 'model layers', 1, MAX_LAYERS), vocab_size: int(s.vocab_size, 'model vocabulary', 1, MAX_VOCAB_ID) };
  }
  const maxLayers = shape?.layers ?? MAX_LAYERS;
  const vocabBound = shape ? shape.vocab_size - 1 : MAX_VOCAB_ID;

  const tokensRaw = arr(h.tokens, 'tokens', undefined, MAX_TOKENS);
  const T = tokensRaw.length;
  if (T === 0) bad('no tokens');
  const tokens = tokensRaw.map((t, i) => {
    const a = arr(t, `token ${i}`, undefined, 4);
    if (a.length !== 4 && !(v >= 2 && a.length === 3)) bad(`token ${i}`);
    const start = int(a[1], `token ${i} start`, 0, prompt.length);
    const end = int(a[2], `token ${i} end`, start, prompt.length);
    const text = a.length === 4 ? str(a[3], `token ${i} text`, MAX_TOKEN_TEXT) : prompt.slice(start, end);
    return { id: int(a[0], `token ${i} id`, 0, vocabBound), start, end, text };
  });
  // Every count below is checked against what the binary part can hold before any array is made.
  const need: Need = (n, what) => {
    if (n > r.remaining()) bad(`${what} cut short`);
  };
  const id = (what: string) => {
    const x = r.int();
    if (x < 0 || x > vocabBound) bad(what);
    return x;
  };
  const readTop = (k: number, what: string): TopEntry[] => {
    let prev = 0;
    return Array.from({ length: k }, (_, j): TopEntry => {
      const tid = id(`${what} id`);
      if (v < 2) return { id: tid, logit: r.fixed() };
      // A drop may span the whole range of logits, so that any decoded run encodes again.
      const u = j === 0 ? r.int() : prev - r.int(2 * MAX_FIXED);
      if (Math.abs(u) > MAX_FIXED) bad(`${what} logit`);
      prev = u;
      return { id: tid, logit: fromUnits(u) };
    });
  };
  const top = int(h.top, 'prediction count', 0, 64);
  need(T * top * 2, 'predictions');
  const predictions = Array.from({ length: T }, () => ({ top: readTop(top, 'prediction') }));
  let targets: ResultTarget[];
  if (h.targets === 'predictions') {
    if (top === 0) bad('targets without predictions');
    targets = predictions.map((p, position) => ({ position, id: p.top[0].id, contrast_id: null, logit: p.top[0].logit }));
  } else {
    targets = readTargets(r, need, int(h.targets, 'target count', 1, MAX_TOKENS), T);
  }

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
  Object.assign(result, readSections(h, r, need, targets, T, v, maxLayers));
  if (h.lens !== undefined) {
    const ln = isObj(h.lens) ? h.lens : bad('logit lens');
    const L = int(ln.L, 'logit lens layers', 1, maxLayers);
    const k = int(ln.k, 'logit lens entries', 1, 64);
    const final = ln.final === undefined ? false : ln.final === true && k === top ? true : bad('logit lens');
    const stored = final ? L - 1 : L;
    need(T * stored * k * 2, 'logit lens');
    result.logit_lens = predictions.map((p) => {
      const layers = Array.from({ length: stored }, () => readTop(k, 'logit lens'));
      if (final) layers.push(p.top.map((e) => ({ ...e })));
      return layers;
    });
  }
  const run: SharedRun = { result, settings: settingsOf(h.settings, T, maxLayers), view: viewOf(h.view, T, maxLayers) };
  if (shape) run.shape = shape;
  if (h.vocab !== undefined) run.vocab = vocabOf(h.vocab, vocabBound);
  if (h.override !== undefined) run.override = overrideOf(h.override, r, need, result, v, maxLayers, vocabBound);
  return run;
}

function overrideOf(raw: unknown, r: ByteReader, need: Need, main: DepassResult, v: number, maxLayers: number, vocabBound: number): SharedOverride {
  const o = isObj(raw) ? raw : bad('target re-run');
  const T = main.tokens.length;
  const position = int(o.position, 're-run position', 0, T - 1);
  const target = int(o.target, 're-run target', 0, vocabBound);
  const contrast = o.contrast === null ? null : int(o.contrast, 're-run contrast', 0, vocabBound);
  const targets = readTargets(r, need, int(o.targets, 're-run target count', 1, MAX_TOKENS), T);
  if (!targets.some((t) => t.position === position)) bad('re-run position');
  const result: DepassResult = {
    format: RESULT_FORMAT,
    model: main.model,
    prompt: main.prompt,
    rule: main.rule,
    tokens: main.tokens,
    // The re-run shares the forward pass, hence the predictions and the logit lens.
    predictions: main.predictions,
    targets,
    completeness: { max_abs_error: num(o.completeness, 're-run completeness') },
    ...readSections(o, r, need, targets, T, v, maxLayers),
  };
  if (main.logit_lens) result.logit_lens = main.logit_lens;
  return { position, target, contrast, result };
}

function vocabOf(raw: unknown, vocabBound: number): [number, string][] {
  const entries = arr(raw, 'vocabulary', undefined, MAX_VOCAB_ENTRIES);
  return entries.map((e) => {
    const a = arr(e, 'vocabulary entry', 2);
    return [int(a[0], 'vocabulary id', 0, vocabBound), str(a[1], 'vocabulary text', MAX_TOKEN_TEXT)];
  });
}

function settingsOf(raw: unknown, T: number, maxLayers: number): RunSettingsShared {
  const s = isObj(raw) ? raw : bad('settings');
  const modes = arr(s.modes, 'modes', undefined, 5).map((m) => (MODES.includes(m as Mode) ? (m as Mode) : bad('mode')));
  const out: RunSettingsShared = { modes, rule: s.rule === 'proportional' ? 'proportional' : s.rule === 'softmax' ? 'softmax' : bad('rule') };
  if (s.layer !== undefined) out.layer = int(s.layer, 'layer', 0, maxLayers - 1);
  if (s.target !== undefined) out.target = int(s.target, 'target', 0, MAX_VOCAB_ID);
  if (s.contrast !== undefined) out.contrast = int(s.contrast, 'contrast', 0, MAX_VOCAB_ID);
  if (s.positions !== undefined) {
    out.positions =
      s.positions === 'all' || s.positions === 'last'
        ? s.positions
        : arr(s.positions, 'positions', undefined, MAX_TOKENS).map((p) => int(p, 'position', 0, T - 1));
  }
  if (s.layerDetail !== undefined) out.layerDetail = typeof s.layerDetail === 'boolean' ? s.layerDetail : bad('layer detail');
  return out;
}

function viewOf(raw: unknown, T: number, maxLayers: number): ViewState {
  const v = isObj(raw) ? raw : bad('view');
  const views = arr(v.views, 'views', undefined, 16).map((n) => (typeof n === 'string' && VIEWS.has(n) ? n : bad('view name')));
  let head: ViewState['head'] = null;
  if (v.head !== null && v.head !== undefined) {
    const hd = isObj(v.head) ? v.head : bad('chosen head');
    head = { layer: int(hd.layer, 'chosen head layer', 0, maxLayers - 1), head: int(hd.head, 'chosen head', 0, MAX_HEADS - 1) };
  }
  const threshold = num(v.threshold, 'threshold');
  if (threshold < 0 || threshold > 1) bad('threshold');
  const out: ViewState = {
    selected: v.selected === null ? null : int(v.selected, 'selected position', 0, T - 1),
    views,
    threshold,
    head,
    layer: v.layer === null || v.layer === undefined ? null : int(v.layer, 'layer', 0, maxLayers - 1),
  };
  if (v.neuron !== undefined) out.neuron = v.neuron === null ? null : int(v.neuron, 'pinned neuron', 0, MAX_NEURONS - 1);
  return out;
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
