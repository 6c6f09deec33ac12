// Reading the targets and the score sections (token, head, neuron, module, subspace) of one result
// from a link's binary tail, as the JSON head declares them; every count is checked against what
// the tail can hold before an array is made. Not the head's other fields (read-run.ts).

import type { DepassResult, ResultTarget } from '../../depass/result';
import type { ByteReader } from './binary';
import { MAX_HEADS, MAX_NEURONS, MAX_VOCAB_ID } from './caps';
import { arr, bad, int, isObj, str } from './validate';

export type Need = (n: number, what: string) => void;
type Sections = Pick<DepassResult, 'token' | 'head' | 'neuron' | 'module' | 'subspace'>;

export function readTargets(r: ByteReader, need: Need, N: number, T: number): ResultTarget[] {
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
export function readSections(
  h: Record<string, unknown>,
  r: ByteReader,
  need: Need,
  targets: ResultTarget[],
  T: number,
  v: number,
  maxLayers: number,
): Sections {
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
