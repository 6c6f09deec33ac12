// Encoding a run into a permalink fragment: the JSON head, then the binary sections in a fixed
// order (predictions, targets, each mode present, logit lens, re-run), deflated and base64url'd.
// Not decoding (decode.ts): what is written here is read back by read-run.ts and read-sections.ts.

import { deflateSync } from 'fflate';
import type { DepassResult, ResultTarget, Rule, TopEntry } from '../../depass/result';
import { toBase64Url } from './base64url';
import { ByteWriter } from './binary';
import { LINK_PREFIX, LINK_VERSION, type RunSettingsShared, type SharedOverride, type SharedRun, type ViewState } from './format';
import { units } from './quantise';

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
  /** Where the model can be downloaded: Hub id and commit. */
  source?: { hub: string; revision: string };
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
  override?: OverrideHead;
  /** Further re-runs, written after `override`'s sections in this order. */
  more?: OverrideHead[];
}

type OverrideHead = SectionsHead & { position: number; target: number; contrast: number | null; targets: number; completeness: number };

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
    ...(run.source ? { source: { hub: run.source.hub, revision: run.source.revision } } : {}),
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
  const writeOverride = (o: SharedOverride): OverrideHead => {
    writeTargets(w, o.result.targets);
    return {
      position: o.position,
      target: o.target,
      contrast: o.contrast,
      targets: o.result.targets.length,
      completeness: o.result.completeness.max_abs_error,
      ...writeSections(w, o.result),
    };
  };
  const o = run.override;
  if (o && o.result.prompt === r.prompt) {
    head.override = writeOverride(o);
    const more = (run.more ?? []).filter((m) => m.result.prompt === r.prompt);
    if (more.length > 0) head.more = more.map(writeOverride);
  }

  const json = new TextEncoder().encode(JSON.stringify(head));
  const body = w.bytes();
  const container = new Uint8Array(4 + json.length + body.length);
  new DataView(container.buffer).setUint32(0, json.length, true);
  container.set(json, 4);
  container.set(body, 4 + json.length);
  return `${LINK_PREFIX}${LINK_VERSION}.${toBase64Url(deflateSync(container, { level: 9 }))}`;
}
