// Comparing two runs: the prompts' tokens aligned, the compared position in each, and the
// differences (first minus second) the comparison views draw: token scores per aligned pair,
// head scores per layer and head, a difference "focus" the flow graph lays out, and both runs'
// per-layer shares. Pure functions over plain results; no engine, no DOM.

import type { DepassResult, ResultToken } from '../depass/result';
import { focusOf } from './selectors';
import type { Focus, Override } from './types';

/** One column of the alignment: a token of each prompt, or of one only (the other is a gap). */
export interface TokenPair {
  a: number | null;
  b: number | null;
  /** Both present and the same token id. */
  same: boolean;
}

/** Above this many DP cells the prompts are paired by position instead (memory stays small). */
const MAX_ALIGN_CELLS = 4_000_000;

/**
 * Aligns two token sequences with the fewest edits (a substitution or a gap costs 1, a match 0),
 * so a minimal pair ("…that she" / "…that he") pairs position by position and an inserted word
 * leaves a gap. Ties prefer the substitution, then a gap in the second.
 */
export function alignTokens(a: readonly { id: number }[], b: readonly { id: number }[]): TokenPair[] {
  const Ta = a.length;
  const Tb = b.length;
  if ((Ta + 1) * (Tb + 1) > MAX_ALIGN_CELLS) {
    return Array.from({ length: Math.max(Ta, Tb) }, (_, k) => {
      const pa = k < Ta ? k : null;
      const pb = k < Tb ? k : null;
      return { a: pa, b: pb, same: pa !== null && pb !== null && a[pa].id === b[pb].id };
    });
  }
  const W = Tb + 1;
  const cost = new Uint32Array((Ta + 1) * W); // [Ta+1, Tb+1] edits to align a[:i] with b[:j]
  for (let i = 0; i <= Ta; i++) cost[i * W] = i;
  for (let j = 0; j <= Tb; j++) cost[j] = j;
  for (let i = 1; i <= Ta; i++)
    for (let j = 1; j <= Tb; j++) {
      const diag = cost[(i - 1) * W + j - 1] + (a[i - 1].id === b[j - 1].id ? 0 : 1);
      cost[i * W + j] = Math.min(diag, cost[(i - 1) * W + j] + 1, cost[i * W + j - 1] + 1);
    }
  const out: TokenPair[] = [];
  let i = Ta;
  let j = Tb;
  while (i > 0 || j > 0) {
    const here = cost[i * W + j];
    if (i > 0 && j > 0 && here === cost[(i - 1) * W + j - 1] + (a[i - 1].id === b[j - 1].id ? 0 : 1)) {
      out.push({ a: i - 1, b: j - 1, same: a[i - 1].id === b[j - 1].id });
      i--;
      j--;
    } else if (i > 0 && here === cost[(i - 1) * W + j] + 1) {
      out.push({ a: i - 1, b: null, same: false });
      i--;
    } else {
      out.push({ a: null, b: j - 1, same: false });
      j--;
    }
  }
  return out.reverse();
}

/** The two runs at the compared positions, and the aligned tokens up to them. */
export interface Comparison {
  first: Focus;
  second: Focus;
  /** Every aligned pair of the two prompts. */
  pairs: TokenPair[];
  /** The pairs up to both compared positions (later tokens contribute nothing). */
  upTo: TokenPair[];
  /** The second run's position was paired with the first's (false: it fell back to its last). */
  paired: boolean;
}

/**
 * The comparison at the first run's shown position: the second run is read at the position
 * aligned with it (its last position when that token has no partner). Null when either run has
 * nothing at its position or the runs come from different models.
 */
export function compareRuns(
  a: DepassResult | null,
  aOverrides: Override[] | null,
  selected: number | null,
  b: DepassResult | null,
  bOverrides: Override[] | null,
): Comparison | null {
  if (!a || !b || a.model.fingerprint !== b.model.fingerprint) return null;
  const first = focusOf(a, aOverrides, selected);
  if (!first) return null;
  const pairs = alignTokens(a.tokens, b.tokens);
  const partner = pairs.find((p) => p.a === first.position)?.b ?? null;
  const second = focusOf(b, bOverrides, partner ?? b.tokens.length - 1);
  if (!second) return null;
  const upTo = pairs.filter((p) => (p.a === null || p.a <= first.position) && (p.b === null || p.b <= second.position));
  return { first, second, pairs, upTo, paired: partner !== null };
}

export interface TokenDiffRow {
  pair: TokenPair;
  /** Score of the first run's token (null: no token of the first prompt in this column). */
  a: number | null;
  b: number | null;
  /** a − b, a missing side counting as 0. */
  diff: number;
}

export interface TokenDiff {
  rows: TokenDiffRow[];
  /** Rest of the first minus rest of the second. */
  rest: number;
  /** Target logit of the first minus that of the second; Σ diff + rest equals it. */
  logit: number;
}

/** Token scores of both runs side by side and their differences, per aligned pair. Null without token mode in both. */
export function tokenDiff(c: Comparison): TokenDiff | null {
  const ta = c.first.result.token;
  const tb = c.second.result.token;
  if (!ta || !tb) return null;
  const ra = ta.scores[c.first.i];
  const rb = tb.scores[c.second.i];
  const rows = c.upTo.map((pair) => {
    const a = pair.a === null ? null : ra[pair.a];
    const b = pair.b === null ? null : rb[pair.b];
    return { pair, a, b, diff: (a ?? 0) - (b ?? 0) };
  });
  return { rows, rest: ta.rest[c.first.i] - tb.rest[c.second.i], logit: c.first.target.logit - c.second.target.logit };
}

/**
 * The rows a view can draw when there are too many: every changed or unpaired token (where a
 * comparison's story usually is) and the largest differences, at most `max` in all, kept in prompt
 * order; the compared position's row always stays. All rows when they fit.
 */
export function shownRows(rows: TokenDiffRow[], max: number): TokenDiffRow[] {
  if (rows.length <= max) return rows;
  const last = rows.length - 1;
  const rank = rows
    .map((r, k) => ({ k, key: k === last ? 2 : !r.pair.same ? 1 : 0, size: Math.abs(r.diff) }))
    .sort((x, y) => y.key - x.key || y.size - x.size || x.k - y.k)
    .slice(0, max)
    .map((x) => x.k)
    .sort((x, y) => x - y);
  return rank.map((k) => rows[k]);
}

export interface HeadDiff {
  /** Layers attributed in both runs. */
  layers: number[];
  H: number;
  /** [layers.length][H] scores of each run and first − second. */
  a: number[][];
  b: number[][];
  diff: number[][];
}

/** Head scores of both runs at their compared positions and the differences. Null without head mode in both. */
export function headDiff(c: Comparison): HeadDiff | null {
  const ha = c.first.result.head;
  const hb = c.second.result.head;
  if (!ha || !hb) return null;
  const layers = ha.layers.filter((l) => hb.layers.includes(l));
  const H = ha.scores[c.first.i][0]?.length ?? 0;
  if (layers.length === 0 || H === 0 || (hb.scores[c.second.i][0]?.length ?? 0) !== H) return null;
  const a = layers.map((l) => ha.scores[c.first.i][ha.layers.indexOf(l)]);
  const b = layers.map((l) => hb.scores[c.second.i][hb.layers.indexOf(l)]);
  return { layers, H, a, b, diff: a.map((row, n) => row.map((v, h) => v - b[n][h])) };
}

/** How an aligned pair is labelled: the token, or "first/second" where they differ. */
export function pairLabel(p: TokenPair, a: readonly ResultToken[], b: readonly ResultToken[], label: (text: string) => string): string {
  const ta = p.a === null ? null : label(a[p.a].text);
  const tb = p.b === null ? null : label(b[p.b].text);
  if (ta !== null && tb !== null) return p.same ? ta : `${ta}/${tb}`;
  return ta !== null ? `${ta}/∅` : `∅/${tb}`;
}

/**
 * The difference as a focus the flow graph can lay out: one "token" per aligned pair up to the
 * compared positions, token, head and module scores first − second, and the logit difference as
 * the target's logit. Its sums hold as a run's do (Σ token diffs + rest diff = logit diff).
 */
export function differenceFocus(c: Comparison, label: (text: string) => string): Focus | null {
  const td = tokenDiff(c);
  const hd = headDiff(c);
  if (!td && !hd) return null;
  const a = c.first.result;
  const b = c.second.result;
  const tokens: ResultToken[] = c.upTo.map((p) => ({ id: -1, text: pairLabel(p, a.tokens, b.tokens, label), start: 0, end: 0 }));
  const position = tokens.length - 1;
  const logit = c.first.target.logit - c.second.target.logit;
  const ma = a.module;
  const mb = b.module;
  const module =
    ma && mb && ma.layer === mb.layer && ma.names.join() === mb.names.join()
      ? { layer: ma.layer, names: ma.names, scores: [ma.scores[c.first.i].map((v, k) => v - mb.scores[c.second.i][k])] }
      : undefined;
  const target = { position, id: c.first.target.id, contrast_id: c.first.target.contrast_id, logit };
  const result: DepassResult = {
    format: a.format,
    model: a.model,
    prompt: `${a.prompt} − ${b.prompt}`,
    rule: a.rule,
    tokens,
    predictions: tokens.map(() => ({ top: [] })),
    targets: [target],
    ...(td ? { token: { scores: [td.rows.map((r) => r.diff)], rest: [td.rest] } } : {}),
    ...(hd
      ? {
          head: {
            layers: hd.layers,
            scores: [hd.diff],
            rest: [hd.layers.map((_, n) => logit - hd.diff[n].reduce((s, v) => s + v, 0))],
          },
        }
      : {}),
    ...(module ? { module } : {}),
    completeness: { max_abs_error: Math.max(a.completeness.max_abs_error, b.completeness.max_abs_error) },
  };
  return { result, i: 0, position, target, custom: c.first.custom || c.second.custom };
}

export interface LayerShares {
  /** Aligned pairs followed, the strongest first by |a| + |b| of the final scores. */
  pairs: TokenPair[];
  /** [L][pairs] share of each pair's token in each run's read-out after every layer; null where the run has no such token. */
  a: (number | null)[][];
  b: (number | null)[][];
}

/** The share of a row's entry: value / (Σ|row| + |rest|), as the single run's layer chart has it. */
function share(row: number[], rest: number, s: number | null): number | null {
  if (s === null) return null;
  const denom = row.reduce((t, v) => t + Math.abs(v), 0) + Math.abs(rest);
  return denom > 0 ? row[s] / denom : 0;
}

/** Both runs' per-layer shares for the `n` strongest aligned tokens. Null unless both runs have the per-layer read-out over the same layers. */
export function layerShares(c: Comparison, n: number): LayerShares | null {
  const ta = c.first.result.token;
  const tb = c.second.result.token;
  const byA = ta?.by_layer?.[c.first.i];
  const byB = tb?.by_layer?.[c.second.i];
  if (!ta || !tb || !byA || !byB || byA.length !== byB.length) return null;
  const fa = ta.scores[c.first.i];
  const fb = tb.scores[c.second.i];
  const weight = (p: TokenPair) => Math.abs(p.a === null ? 0 : fa[p.a]) + Math.abs(p.b === null ? 0 : fb[p.b]);
  const pairs = c.upTo
    .map((p, k) => [p, k] as const)
    .sort((x, y) => weight(y[0]) - weight(x[0]) || x[1] - y[1])
    .slice(0, n)
    .map(([p]) => p);
  const restA = ta.rest_by_layer?.[c.first.i];
  const restB = tb.rest_by_layer?.[c.second.i];
  return {
    pairs,
    a: byA.map((row, l) => pairs.map((p) => share(row, restA?.[l] ?? 0, p.a))),
    b: byB.map((row, l) => pairs.map((p) => share(row, restB?.[l] ?? 0, p.b))),
  };
}
